"""Files exhibitors and organisers upload: company logos and floor-plan drawings, checked by their content.

An SVG drawing is rebuilt from an allow-list of shapes and presentation attributes, so whatever script, event
handler, external reference or stylesheet it carried is gone before anyone's browser sees it.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from portal.booths.models import PlanImageKind
from portal.errors import Invalid
from portal.uploads import image_extension, read_limited, save

MAX_LOGO_BYTES = 1024 * 1024
MAX_PLAN_BYTES = 5 * 1024 * 1024

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
SVG_ELEMENTS = frozenset({
    "svg", "g", "defs", "title", "desc", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text",
    "tspan", "linearGradient", "radialGradient", "stop", "clipPath", "use", "symbol", "marker", "pattern",
})
SVG_ATTRIBUTES = frozenset({
    "id", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "dx", "dy", "width", "height",
    "d", "points", "transform", "viewBox", "preserveAspectRatio", "version", "fill", "fill-opacity", "fill-rule",
    "stroke", "stroke-width", "stroke-opacity", "stroke-linecap", "stroke-linejoin", "stroke-dasharray",
    "stroke-dashoffset", "stroke-miterlimit", "opacity", "font-family", "font-size", "font-weight", "font-style",
    "text-anchor", "dominant-baseline", "letter-spacing", "offset", "stop-color", "stop-opacity", "gradientUnits",
    "gradientTransform", "spreadMethod", "clip-path", "clipPathUnits", "clip-rule", "marker-start", "marker-mid",
    "marker-end", "markerWidth", "markerHeight", "refX", "refY", "orient", "patternUnits", "patternTransform",
    "visibility", "display", "rotate",
})
#: the only references a drawing may keep: to its own parts
_LOCAL_REFERENCE = re.compile(r"#[A-Za-z_][\w.-]*")
_LOCAL_URL = re.compile(r"url\(\s*#[A-Za-z_][\w.-]*\s*\)")


def store_logo(upload: FileStorage, folder: Path) -> str:
    """Checks a company logo by its content (PNG, JPEG or WebP) and size, saves it under a random name and returns
    that name for Application.logo."""
    data = read_limited(upload, MAX_LOGO_BYTES,
                        _l("The logo is larger than 1 MB. Make it smaller and upload it again."), "logo")
    extension = image_extension(data)
    if extension is None:
        raise Invalid(_l("The logo must be a PNG, JPEG or WebP picture."), "logo")
    return save(data, extension, folder)


def _clean_value(name: str, value: str) -> str | None:
    if "url(" in value and not _LOCAL_URL.fullmatch(value.strip()):
        return None
    return value if name in SVG_ATTRIBUTES else None


def _clean_element(source: ElementTree.Element) -> ElementTree.Element | None:
    namespace, _, tag = source.tag.rpartition("}")
    if namespace.lstrip("{") != SVG or tag not in SVG_ELEMENTS:
        return None
    kept = ElementTree.Element(source.tag)
    for name, value in source.attrib.items():
        if name in ("href", f"{{{XLINK}}}href"):
            if _LOCAL_REFERENCE.fullmatch(value.strip()):
                kept.set("href", value.strip())
        elif (cleaned := _clean_value(name, value)) is not None:
            kept.set(name, cleaned)
    kept.text, kept.tail = source.text, source.tail
    for child in source:
        cleaned_child = _clean_element(child)
        if cleaned_child is not None:
            kept.append(cleaned_child)
    return kept


def sanitise_svg(data: bytes) -> bytes:
    """The drawing rebuilt from allowed elements and attributes only; refused if it is not a plain SVG document
    (document types and entities are refused outright, so nothing can expand or fetch anything)."""
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise Invalid(_l("This SVG file declares a document type; save it as a plain SVG and upload it again."),
                      "background")
    try:
        root = ElementTree.fromstring(data)  # noqa: S314 - DTDs and entities are refused above
    except ElementTree.ParseError:
        root = None
    cleaned = _clean_element(root) if root is not None and root.tag == f"{{{SVG}}}svg" else None
    if cleaned is None:
        raise Invalid(_l("This file is not a readable SVG drawing."), "background")
    ElementTree.register_namespace("", SVG)
    return ElementTree.tostring(cleaned, encoding="utf-8", xml_declaration=True)


def _looks_like_svg(data: bytes) -> bool:
    return b"<svg" in data[:4096].lower()


def store_plan_background(upload: FileStorage, folder: Path) -> tuple[str, PlanImageKind]:
    """Checks a floor-plan drawing (PNG, JPEG or SVG, at most 5 MB), sanitises an SVG, saves it under a random
    name; returns the name and its kind for the floor plan."""
    data = read_limited(upload, MAX_PLAN_BYTES,
                        _l("The drawing is larger than 5 MB. Make it smaller and upload it again."), "background")
    extension = image_extension(data)
    if extension in (".png", ".jpg"):
        return save(data, extension, folder), PlanImageKind.PNG if extension == ".png" else PlanImageKind.JPEG
    if extension is None and _looks_like_svg(data):
        return save(sanitise_svg(data), ".svg", folder), PlanImageKind.SVG
    raise Invalid(_l("The drawing must be a PNG, JPEG or SVG file."), "background")

"""The plan's booths as the pages draw them: a shape on the SVG drawing and a row of the booth list each.

The fragments are written here rather than in the template. A plan of 200 booths is 400 fragments of a dozen
values each, and Jinja's attribute lookup and escaping of every value cost twice as much CPU as everything else
on the page together (the plan page's p95 target is 100 ms); here each value is formatted once and only the words
that can carry markup are escaped. The page's frame (the drawing's hatch pattern and legend, the list's caption
and headings) stays in templates/booths/_plan.html.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from portal.booths.forms import FEATURE_LABELS
from portal.booths.labels import BOOTH_STATE_LABELS
from portal.booths.models import BoothState
from portal.booths.plan import Plan, PlanBooth
from portal.i18n import format_vnd

#: shown states drawn hatched as well as coloured, so that they differ without colour too
HATCHED = frozenset({"sold", "blocked"})
#: the widest a booth number's characters are, as a share of its font size (bold capitals and digits): a label is
#: shrunk until its number fits its booth (the editor's booth_editor.js reads it from the page)
LABEL_GLYPH_WIDTH = 0.72


def label_size(number: str, w: float, h: float, largest: float) -> float:
    """The font size that fits `number` inside a booth w × h wide and deep (any unit), at most `largest`."""
    return min(largest, h / 2, w * 0.9 / (LABEL_GLYPH_WIDTH * max(len(number), 1)))


@dataclass(frozen=True)
class DrawnBooth:
    """A booth with its words worked out, and escaped, once per page, and its geometry read once (an ORM
    attribute read costs several times a plain one, and each booth's are read for the drawing and the list)."""

    item: PlanBooth
    id: int
    x: int
    y: int
    w: int
    h: int
    #: its accessible name on the drawing: number, zone, size, price and state
    name: Markup
    number: Markup
    zone: Markup
    size: Markup
    price: Markup
    features: Markup
    state: Markup
    #: where it leads on the drawing, if anywhere (escaped)
    href: Markup | None


def _word(text: str) -> tuple[str, Markup]:
    return text, escape(text)


def drawn_booths(plan: Plan, link: Callable[[int], Markup] | None = None) -> list[DrawnBooth]:
    """`link` makes a booth's href from its id."""
    feature_names = {key: str(label) for key, label in FEATURE_LABELS.items()}
    name = _("Booth %(number)s, zone %(zone)s, %(size)s m², %(price)s: %(state)s")
    # zones, sizes, prices, feature sets and states repeat from booth to booth: each is formatted and escaped once
    states = {state: _word(str(label)) for state, label in BOOTH_STATE_LABELS.items()}
    zones: dict[str, tuple[str, Markup]] = {}
    sizes: dict[float, tuple[str, Markup]] = {}
    prices: dict[int, tuple[str, Markup]] = {}
    feature_sets: dict[tuple[bool, ...], tuple[str, Markup]] = {}
    drawn = []
    for item in plan.booths:
        booth = item.booth
        booth_id, number = booth.id, booth.number
        offered = tuple(getattr(booth, key) for key in feature_names)
        zone = zones.get(booth.zone) or zones.setdefault(booth.zone, _word(booth.zone or "—"))
        size = sizes.get(booth.size_m2) or sizes.setdefault(booth.size_m2, _word(f"{booth.size_m2:g}"))
        price = prices.get(booth.price) or prices.setdefault(booth.price, _word(format_vnd(booth.price)))
        features = feature_sets.get(offered) or feature_sets.setdefault(offered, _word(", ".join(
            text for text, has in zip(feature_names.values(), offered, strict=True) if has) or "—"))
        state = states[item.state]
        drawn.append(DrawnBooth(
            item, booth_id, booth.x, booth.y, booth.w, booth.h,
            escape(name % {"number": number, "zone": zone[0], "size": size[0], "price": price[0], "state": state[0]}),
            escape(number), zone[1], size[1], price[1], features[1], state[1], link(booth_id) if link else None))
    return drawn


def booth_shapes(booths: Iterable[DrawnBooth], shown_ids: Collection[int] | None = None,
                 chosen_id: int | None = None) -> Markup:
    """The booths on the drawing, coloured by state; those the filters left out (not in `shown_ids`) dimmed, the
    chosen one ringed. A booth with an href is a link."""
    parts = []
    for drawn in booths:
        item = drawn.item
        booth_id, x, y, w, h, shown = drawn.id, drawn.x, drawn.y, drawn.w, drawn.h, item.shown
        classes = f"booth booth-{shown}"
        if item.is_own:
            classes += " booth-own"
        if shown_ids is not None and booth_id not in shown_ids:
            classes += " booth-dimmed"
        if booth_id == chosen_id:
            classes += " booth-chosen"
        name = drawn.name
        box = f'x="{x}" y="{y}" width="{w}" height="{h}"'
        if drawn.href:
            parts.append(f'<a href="{drawn.href}" class="{classes}" aria-label="{name}" data-booth="{booth_id}">')
        else:
            parts.append(f'<g class="{classes}" role="img" aria-label="{name}">')
        parts.append(f'<title>{name}</title><rect class="booth-shape" {box}/>')
        if shown in HATCHED:
            parts.append(f'<rect class="booth-pattern" fill="url(#booth-hatch)" {box}/>')
        parts.append(f'<text class="booth-number" x="{x + w / 2:g}" y="{y + h / 2:g}" '
                     f'font-size="{label_size(drawn.number, w, h, 1.2):.3g}" aria-hidden="true">{drawn.number}</text>')
        parts.append("</a>\n" if drawn.href else "</g>\n")
    return Markup("".join(parts))  # noqa: S704 - every value from outside was escaped above


def booth_rows(booths: Iterable[DrawnBooth], texts: dict[str, str], can_choose: bool, choose_form: str, *,
               choose_url: str | None = None, login_url: str | None = None, row_id: str = "booth-row-") -> Markup:
    """The booths as rows of the list, each with its action: a "Choose" button of the form `choose_form` (sent to
    `choose_url` instead of the form's own action when given), a link to the viewer's own booking, or a way to log
    in. `texts` holds the per-booth patterns, translated once: choose, log_in_to_choose, own."""
    yours, row_id = escape(_("Yours")), escape(row_id)
    # the patterns escaped once; filled in with numbers escaped already (DrawnBooth.number), they stay safe
    patterns = {key: str(escape(pattern)) for key, pattern in texts.items()}
    choose_attributes = f' formaction="{escape(choose_url)}" formnovalidate' if choose_url else ""
    choose_form, login_url = escape(choose_form), escape(login_url) if login_url else None
    parts = []
    for drawn in booths:
        item = drawn.item
        number = {"number": str(drawn.number)}
        if item.is_own:
            action = (f'<a href="{escape(url_for("booths.booking", booking_id=item.booking.id))}">'
                      f'{patterns["own"] % number}</a>')
        elif item.state is not BoothState.AVAILABLE or not can_choose:
            action = "—"
        elif login_url:
            action = f'<a href="{login_url}">{patterns["log_in_to_choose"] % number}</a>'
        else:
            action = (f'<button type="submit" form="{choose_form}" name="booth" value="{drawn.id}" '
                      f'class="button button-small"{choose_attributes}>{patterns["choose"] % number}</button>')
        own_badge = f' <span class="badge">{yours}</span>' if item.is_own else ""
        parts.append(
            f'<tr id="{row_id}{drawn.id}"><th scope="row">{drawn.number}</th>'
            f'<td>{drawn.zone}</td><td>{drawn.size} m²</td><td>{drawn.price}</td><td>{drawn.features}</td>'
            f'<td><span class="booth-state booth-state-{item.shown}">{drawn.state}</span>{own_badge}</td>'
            f'<td>{action}</td></tr>\n')
    return Markup("".join(parts))  # noqa: S704 - every value from outside was escaped above

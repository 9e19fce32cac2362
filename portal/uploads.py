"""Files people upload (covers, logos, hall drawings, pitch decks): read within a size limit, recognised by their
content whatever their name claims, stored outside static/ under a random name that pages check before serving."""

from __future__ import annotations

import logging
import re
import secrets
from functools import partial
from pathlib import Path

from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from portal.db import after_commit
from portal.errors import Invalid

logger = logging.getLogger(__name__)

#: the first bytes of each accepted format, and the extension it is stored with
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", ".png"), (b"\xff\xd8\xff", ".jpg"), (b"%PDF-", ".pdf"))
#: what stored names look like: pages serve only names that match
STORED_NAME = re.compile(r"[0-9a-f]{32}\.(png|jpg|webp|svg|pdf)")
CONTENT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp", ".svg": "image/svg+xml",
                 ".pdf": "application/pdf"}
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".webp"})


def content_extension(data: bytes) -> str | None:
    """The extension matching the file's content: PNG, JPEG, WebP or PDF; None for anything else."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return next((extension for signature, extension in _SIGNATURES if data.startswith(signature)), None)


def image_extension(data: bytes) -> str | None:
    """The extension of a PNG, JPEG or WebP picture; None for anything else (a PDF included)."""
    extension = content_extension(data)
    return extension if extension in IMAGE_EXTENSIONS else None


def read_limited(upload: FileStorage, limit: int, too_big, field: str) -> bytes:
    """The upload's bytes, refused with `too_big` on `field` past `limit` bytes (read no further than that)."""
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise Invalid(too_big, field)
    return data


def store_image(upload: FileStorage, folder: Path, *, limit: int, too_big, not_a_picture, field: str) -> str:
    """Checks a picture upload by its content and size and saves it under a random name; returns that name."""
    data = read_limited(upload, limit, too_big, field)
    extension = image_extension(data)
    if extension is None:
        raise Invalid(not_a_picture, field)
    return save(data, extension, folder)


def replace_after_commit(session: Session, folder: Path, replaced: str | None, new: str | None) -> None:
    """Files do not roll back: the replaced one is deleted once the change has committed, the new one if it never
    does."""
    after_commit(session, partial(delete, folder, replaced), otherwise=partial(delete, folder, new))


def save(data: bytes, extension: str, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16) + extension
    (folder / name).write_bytes(data)
    return name


def delete(folder: Path, name: str | None) -> None:
    """Removes a stored file; one left behind (a full disk, a permission) wastes space but breaks nothing."""
    if name is None:
        return
    try:
        (folder / name).unlink(missing_ok=True)
    except OSError:
        logger.warning("Could not delete the uploaded file %s", name, exc_info=True)

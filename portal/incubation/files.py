"""Pitch decks and documents attached to an application: PDF or pictures, checked by content, within the field's
size limit, stored outside static/ under a random name, and removed from disk with their row."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from portal import uploads
from portal.accounts.models import User
from portal.db import after_commit
from portal.errors import Conflict, Invalid, NotFound
from portal.incubation.applications import CallNotOpen, may_edit
from portal.incubation.models import Application, ApplicationFile, ApplicationStatus, FieldKind, FormField

DEFAULT_LIMIT_MB = 10
#: files one question takes: a deck and a few documents, not an archive
MAX_FILES_PER_FIELD = 5
ACCEPTED = frozenset({".pdf", ".png", ".jpg"})


def attach(session: Session, application: Application, field: FormField, upload: FileStorage, folder: Path,
           user: User, now: datetime) -> ApplicationFile:
    if field.call_id != application.call_id or field.kind != FieldKind.FILE:
        raise NotFound()
    if not may_edit(application, now):
        raise CallNotOpen()
    count = session.scalar(select(func.count()).select_from(ApplicationFile).where(
        ApplicationFile.application_id == application.id, ApplicationFile.field_id == field.id))
    if count >= MAX_FILES_PER_FIELD:
        raise Invalid(_l("At most %(count)d files per question. Remove one first.", count=MAX_FILES_PER_FIELD),
                      "file")
    limit_mb = field.max_file_mb or DEFAULT_LIMIT_MB
    data = uploads.read_limited(upload, limit_mb * 1024 * 1024,
                                _l("This file is larger than %(mb)d MB. Make it smaller and upload it again.",
                                   mb=limit_mb), "file")
    extension = uploads.content_extension(data)
    if extension not in ACCEPTED:
        raise Invalid(_l("Please upload a PDF, PNG or JPEG file."), "file")
    name = uploads.save(data, extension, folder)
    after_commit(session, _nothing, otherwise=partial(uploads.delete, folder, name))
    stored = ApplicationFile(application_id=application.id, field_id=field.id, stored_name=name,
                             original_name=_display_name(upload.filename, extension),
                             content_type=uploads.CONTENT_TYPES[extension], size=len(data),
                             uploaded_by_id=user.id, uploaded_at=now)
    session.add(stored)
    application.updated_at = now
    return stored


def _nothing() -> None:
    """Kept once committed: only a rolled-back upload's file is removed."""


def _display_name(filename: str | None, extension: str) -> str:
    """The name shown and offered on download: the uploader's, without any folder, with the real extension."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?')[:150]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return (stem or "document") + extension


def remove(session: Session, stored: ApplicationFile, folder: Path, now: datetime) -> None:
    if not may_edit(stored.application, now):
        raise CallNotOpen()
    session.delete(stored)
    after_commit(session, partial(uploads.delete, folder, stored.stored_name))


def discard_draft(session: Session, application: Application, folder: Path) -> None:
    """Deletes a draft never submitted, and its files once that has committed; a submitted application is withdrawn
    instead."""
    if application.status != ApplicationStatus.DRAFT:
        raise Conflict(_l("A submitted application cannot be deleted; withdraw it instead."))
    names = list(session.scalars(select(ApplicationFile.stored_name)
                                 .where(ApplicationFile.application_id == application.id)))
    after_commit(session, partial(_delete_all, folder, names))
    session.delete(application)


def _delete_all(folder: Path, names: list[str]) -> None:
    for name in names:
        uploads.delete(folder, name)

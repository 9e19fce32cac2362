"""An application as a PDF, for the startup's records and the council's folder."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from portal.i18n import format_local_datetime, localized
from portal.incubation.applications import answers_of, files_of, form_of
from portal.incubation.forms import localized_option
from portal.incubation.models import Application, FieldKind, FormField
from portal.pdf import Document


def answer_text(field: FormField, value, attached: list) -> str:
    """An answer in words, as the applicant sees it."""
    if field.kind == FieldKind.FILE:
        return ", ".join(f.original_name for f in attached)
    if value in (None, "", []):
        return "—"
    if field.kind in (FieldKind.SINGLE_CHOICE, FieldKind.MULTIPLE_CHOICE):
        options = {o["key"]: o for o in field.options}
        chosen = value if isinstance(value, list) else [value]
        return ", ".join(localized_option(options[key]) if key in options else key for key in chosen)
    if field.kind == FieldKind.TEAM:
        return "\n".join(" · ".join(part for part in (row.get("name"), row.get("role"), row.get("email")) if part)
                         for row in value)
    return str(value)


def application_pdf(session: Session, application: Application) -> bytes:
    call = application.call
    pdf = Document(_("Application of %(startup)s", startup=application.organisation.name))
    pdf.paragraph(_("Hanoi Innovation Portal"), 9)
    pdf.paragraph(localized(call, "title"), 16, "B")
    pdf.paragraph(_("Application of %(startup)s", startup=application.organisation.name), 12)
    if application.submitted_at:
        pdf.paragraph(_("Submitted: %(when)s", when=format_local_datetime(application.submitted_at, "short")))
    else:
        pdf.paragraph(_("Draft, not submitted"))
    answers, attached = answers_of(session, application), files_of(session, application)
    for section in form_of(session, application.call_id):
        pdf.ln(3)
        pdf.paragraph(localized(section, "title"), 13, "B")
        for field in section.fields:
            pdf.paragraph(localized(field, "label"), 10, "B")
            pdf.paragraph(answer_text(field, answers.get(field.id), attached.get(field.id, [])))
    return pdf.to_bytes()

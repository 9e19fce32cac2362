"""An application as a PDF, for the startup's records and the council's folder."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.audit.services import record
from portal.exports import ExportFile, Table, export_file
from portal.i18n import format_local_datetime, localized
from portal.incubation.applications import answers_of, files_of, form_of
from portal.incubation.forms import STAGE_LABELS, localized_option
from portal.incubation.models import Application, FieldKind, FormField
from portal.incubation.scoring import Ranking
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


# --- spreadsheets -----------------------------------------------------------------------------------------------

def ranking_table(ranked: Ranking) -> Table:
    """The ranking as the committee reads it, every application (the page shows a hundred at a time)."""
    def figure(value: float | None):
        return "" if value is None else round(value, 2)

    headers = [_("Rank"), _("Startup"), _("Stage"), _("Reviews submitted"), _("Reviews assigned"), _("Mean"),
               _("Median"), _("Calibrated"), _("Spread"), _("Reviewers disagree")]
    rows = [[rank, row.name, str(STAGE_LABELS[row.stage]) if row.stage else "", row.submitted, row.assigned,
             figure(row.mean), figure(row.median), figure(row.calibrated), figure(row.spread),
             _("Yes") if row.disagreement else ""]
            for rank, row in enumerate(ranked.rows, start=1)]
    return Table(headers=headers, rows=rows)


def figures_table(figures: dict) -> Table:
    """The programme's figures per call: what the city reports."""
    stages = list(STAGE_LABELS)
    headers = [_("Call"), _("Programme"), _("Submitted"), *[str(STAGE_LABELS[s]) for s in stages], _("Decided"),
               _("Accepted"), _("Acceptance rate (%)"), _("Reviews assigned"), _("Reviews submitted")]
    rows = [[localized(row.call, "title"), localized(row.call.programme, "name"), row.submitted,
             *[row.by_stage.get(s, 0) for s in stages], row.decided, row.accepted,
             round(row.acceptance_rate * 100, 1) if row.acceptance_rate is not None else "",
             row.reviews_assigned, row.reviews_submitted] for row in figures["calls"]]
    return Table(headers=headers, rows=rows)


def export(session: Session, actor: User, table: Table, file_format: str, *, name: str, what: str,
           now: datetime, ip_address: str | None = None) -> ExportFile:
    """A spreadsheet of the incubation's figures, formula-safe, its download audited."""
    exported = export_file(table, file_format, name=name, sheet_title=name[:31], now=now)
    record(session, "incubation.exported", actor_id=actor.id, ip_address=ip_address, what=what, format=file_format)
    return exported

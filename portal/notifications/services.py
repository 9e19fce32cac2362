"""The outbox: mail is queued in the caller's transaction and delivered later by the scheduler."""

from __future__ import annotations

import base64
import logging
import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db import Database, InsertIgnoringDuplicates, utcnow
from portal.notifications.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
#: how long a claimed message is reserved for its sender before another run may retry it
SEND_LEASE = timedelta(minutes=10)


def absolute_url(endpoint: str, **values) -> str:
    """A link for mail, built from BASE_URL, never from the request's Host header."""
    adapter = current_app.url_map.bind("portal.invalid", url_scheme="https")
    return current_app.config["BASE_URL"] + adapter.build(endpoint, values)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes

    def as_json(self) -> dict:
        return {"filename": self.filename, "content_type": self.content_type,
                "data": base64.b64encode(self.data).decode("ascii")}


@dataclass(frozen=True)
class BuiltAtSend:
    """An attachment the sender makes when it sends the mail, not the request that queues it: a QR code or a
    calendar file costs CPU that a buyer should not wait for."""

    builder: str
    args: dict

    def as_json(self) -> dict:
        return {"builder": self.builder, "args": self.args}


#: builder name → function(session, **args) returning an Attachment, or a list of them (one per ticket of an order,
#: say); domains register theirs at import
ATTACHMENT_BUILDERS: dict[str, Callable[..., Attachment | list[Attachment]]] = {}


def register_attachment_builder(name: str, builder: Callable[..., Attachment | list[Attachment]]) -> None:
    ATTACHMENT_BUILDERS[name] = builder


def _attachments(db: Database, message: OutboxMessage) -> list[Attachment]:
    attachments = []
    with db.session_factory() as session:
        for item in message.attachments:
            if "builder" not in item:
                attachments.append(Attachment(item["filename"], item["content_type"], base64.b64decode(item["data"])))
                continue
            built = ATTACHMENT_BUILDERS[item["builder"]](session, **item["args"])
            attachments.extend(built if isinstance(built, list) else [built])
    return attachments


@dataclass(frozen=True)
class ComposedAtSend:
    """A body the sender renders when it sends the mail, from what a registered builder loads then: a buyer waiting
    for the answer to a rush of orders should not also wait for the e-mail's templates."""

    builder: str
    args: dict

    def as_json(self, template: str) -> dict:
        return {"template": template, "builder": self.builder, "args": self.args}


#: builder name → function(session, **args) returning the template's context; domains register theirs at import
CONTEXT_BUILDERS: dict[str, Callable[..., dict]] = {}


def register_context_builder(name: str, builder: Callable[..., dict]) -> None:
    CONTEXT_BUILDERS[name] = builder


def _render_bodies(template: str, locale: str, context: dict) -> tuple[str, str]:
    with force_locale(locale):
        return (render_template(f"mail/{template}.txt", **context),
                render_template(f"mail/{template}.html", **context))


def compose_pending_body(db: Database, message: OutboxMessage) -> None:
    """Renders a ComposedAtSend body into the message (the caller stores it with the send's outcome)."""
    if message.compose is None or message.body_text:
        return
    with db.session_factory() as session:
        context = CONTEXT_BUILDERS[message.compose["builder"]](session, **message.compose["args"])
        message.body_text, message.body_html = _render_bodies(message.compose["template"], message.locale, context)


def _single_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


#: one statement per message; a key queued before inserts nothing
_insert_message = InsertIgnoringDuplicates(OutboxMessage.__table__, [OutboxMessage.idempotency_key], OutboxMessage.id)


def queue_mail(
    session: Session,
    *,
    key: str,
    to: str,
    locale: str,
    template: str,
    subject,
    attachments: list[Attachment | BuiltAtSend] = (),
    composed_at_send: ComposedAtSend | None = None,
    **context,
) -> bool:
    """Queues `mail/<template>.txt` and `.html` in the recipient's language once per key, rendered now from
    `context` or by the sender from `composed_at_send`; returns whether it was queued now (False: that key was
    queued before)."""
    if composed_at_send is None:
        body_text, body_html = _render_bodies(template, locale, context)
    else:
        body_text = body_html = ""
    with force_locale(locale):
        subject = _single_line(str(subject))
    values = {
        "idempotency_key": key, "to_address": to, "locale": locale, "subject": subject,
        "body_text": body_text, "body_html": body_html, "attachments": [a.as_json() for a in attachments],
        "compose": composed_at_send.as_json(template) if composed_at_send else None,
    }
    return _insert_message(session, values) is not None


class SinkTransport:
    """Development: nothing leaves the machine; admins read the mail at /admin/mail."""

    def send(self, message: EmailMessage) -> None:
        log.info("mail sink: %s to %s", message["Subject"], message["To"])


@dataclass
class SmtpTransport:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 20.0

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


def transport_from_config(config) -> SinkTransport | SmtpTransport:
    if config["MAIL_TRANSPORT"] == "sink":
        return SinkTransport()
    return SmtpTransport(
        host=config["SMTP_HOST"],
        port=config["SMTP_PORT"],
        username=config["SMTP_USER"],
        password=config["SMTP_PASSWORD"],
        starttls=config["SMTP_STARTTLS"],
    )


def build_email(message: OutboxMessage, sender: str, attachments: list[Attachment] = ()) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(idstring=f"outbox{message.id}")
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    for attachment in attachments:
        maintype, subtype = attachment.content_type.split("/", 1)
        email.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    # After the parts exist: making the message multipart moves Content-* headers into the first part.
    email["Content-Language"] = message.locale
    return email


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4 … minutes after each failure, at most six hours."""
    return min(timedelta(minutes=2 ** (attempts - 1)), timedelta(hours=6))


def _claim_due(db: Database, limit: int) -> list[OutboxMessage]:
    now = utcnow()
    with db.transaction() as session:
        due = session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.next_attempt_at <= now,
                # a SENDING row that is due again is one whose sender died and whose lease ran out
                OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for message in due:
            message.status = OutboxStatus.SENDING
            message.attempts += 1
            message.next_attempt_at = now + SEND_LEASE
        return list(due)


def deliver_due(db: Database, transport, sender: str, *, limit: int = 100) -> dict[str, int]:
    """Sends what is due; failures are retried with exponential backoff, then marked failed."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for message in _claim_due(db, limit):
        error = None
        try:
            compose_pending_body(db, message)
            transport.send(build_email(message, sender, _attachments(db, message)))
        except (OSError, smtplib.SMTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning("mail %s to %s failed: %s", message.id, message.to_address, error)
        with db.transaction() as session:
            row = session.get(OutboxMessage, message.id)
            row.body_text, row.body_html = message.body_text, message.body_html  # kept for the admins' mail reader
            if error is None:
                row.status, row.sent_at, row.last_error = OutboxStatus.SENT, utcnow(), None
                counts["sent"] += 1
            elif row.attempts >= MAX_ATTEMPTS:
                row.status, row.last_error = OutboxStatus.FAILED, error
                counts["failed"] += 1
            else:
                row.status, row.last_error = OutboxStatus.PENDING, error
                row.next_attempt_at = utcnow() + retry_delay(row.attempts)
                counts["retry"] += 1
    return counts


def deliver_outbox(app) -> dict[str, int]:
    """What the scheduler (and `flask mail send`) runs."""
    with app.app_context():  # attachment builders render in the recipient's language
        return deliver_due(
            app.extensions["portal.db"], transport_from_config(app.config), app.config["MAIL_SENDER"]
        )

"""The outbox: mail is queued in the caller's transaction and delivered later by the scheduler."""

from __future__ import annotations

import base64
import logging
import os
import re
import smtplib
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from portal.db import Database, InsertIgnoringDuplicates, utcnow
from portal.errors import NotFound
from portal.notifications.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
#: how long a claimed message is reserved for its sender before another run may retry it
SEND_LEASE = timedelta(minutes=4)


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
    if not message.attachments:
        return attachments
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

    @contextmanager
    def connection(self) -> Iterator[SinkTransport]:
        yield self

    def send_message(self, message: EmailMessage) -> None:
        log.info("mail sink: %s to %s", message["Subject"], message["To"])


@dataclass
class SmtpTransport:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    #: seconds any one step of the SMTP exchange may take: a server that stops answering ends the batch, not the
    #: sender
    timeout: float = 20.0

    @contextmanager
    def connection(self) -> Iterator[smtplib.SMTP]:
        """One SMTP connection for a batch of messages (opened at the first one): a connection per message costs
        the handshake every time."""
        smtp = _LazySmtp(self)
        try:
            yield smtp
        finally:
            smtp.close()



class _LazySmtp:
    def __init__(self, transport: SmtpTransport) -> None:
        self.transport = transport
        self.smtp: smtplib.SMTP | None = None

    def send_message(self, message: EmailMessage) -> None:
        if self.smtp is None:
            settings = self.transport
            self.smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
            if settings.starttls:
                self.smtp.starttls()
            if settings.username:
                self.smtp.login(settings.username, settings.password or "")
        self.smtp.send_message(message)

    def close(self) -> None:
        if self.smtp is not None:
            with suppress(OSError, smtplib.SMTPException):  # the mail is sent or recorded as failed already
                self.smtp.quit()
            self.smtp.close()


def transport_from_config(config) -> SinkTransport | SmtpTransport:
    if config["MAIL_TRANSPORT"] == "sink":
        return SinkTransport()
    return SmtpTransport(
        host=config["SMTP_HOST"],
        port=config["SMTP_PORT"],
        username=config["SMTP_USER"],
        password=config["SMTP_PASSWORD"],
        starttls=config["SMTP_STARTTLS"],
        timeout=config["SMTP_TIMEOUT"],
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


def sender_id() -> str:
    """This process, as the outbox records who holds a message it is sending."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


_DUE = (OutboxStatus.PENDING, OutboxStatus.SENDING)


def _claim_due(db: Database, limit: int, claimer: str) -> list[OutboxMessage]:
    """Marks up to `limit` due messages as being sent by `claimer`, in one UPDATE whose WHERE repeats what makes a
    message due: of two senders at once, each row goes to one. PostgreSQL locks the rows the subquery picks and
    lets another sender skip them (SKIP LOCKED) rather than wait; a row claimed and committed meanwhile fails the
    UPDATE's own condition when PostgreSQL re-reads it. SQLite lets one writer in at a time (BEGIN IMMEDIATE)."""
    now = utcnow()
    due = OutboxMessage.status.in_(_DUE), OutboxMessage.next_attempt_at <= now
    picked = select(OutboxMessage.id).where(*due).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    picked = picked.limit(limit)
    if not db.is_sqlite:
        picked = picked.with_for_update(skip_locked=True)
    with db.transaction() as session:
        claimed = session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(picked.scalar_subquery()), *due)
            # a SENDING row that is due again is one whose sender died and whose lease ran out
            .values(status=OutboxStatus.SENDING, attempts=OutboxMessage.attempts + 1,
                    next_attempt_at=now + SEND_LEASE, claimed_by=claimer)
            .returning(OutboxMessage)
            .execution_options(synchronize_session=False)
        ).all()
    return sorted(claimed, key=lambda message: (message.next_attempt_at, message.id))


def _held_by(claimer: str, ids):
    return (OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_by == claimer)


@contextmanager
def _outcome_recorder(db: Database) -> Iterator[Connection]:
    """One connection for a batch's outcomes, each committed on its own. On PostgreSQL each is one statement in
    autocommit (one round trip, not three) and does not wait for the disk: a sender killed loses nothing committed;
    only a crash of PostgreSQL itself could lose the last few outcomes, whose mails would then go again."""
    with db.engine.connect() as connection:
        if db.is_sqlite:
            yield connection.execution_options(sqlite_immediate=True)
            return
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql("SET synchronous_commit = off")
        connection.commit()  # ends the Transaction object SQLAlchemy began, so each outcome may begin its own
        try:
            yield connection
        finally:
            try:
                connection.exec_driver_sql("RESET synchronous_commit")
            except Exception:  # noqa: BLE001 - a broken connection must not go back to the pool with the setting
                connection.invalidate()


def _record_outcome(recorder: Connection, message: OutboxMessage, claimer: str, error: str | None) -> str:
    """Stores one message's outcome at once, so a sender killed after it resends nothing it had sent (only a
    message whose SMTP exchange it was in the middle of). Only while the claim is still this sender's."""
    now = utcnow()
    if error is None:
        outcome, values = "sent", {"status": OutboxStatus.SENT, "sent_at": now, "last_error": None}
    elif message.attempts >= MAX_ATTEMPTS:
        outcome, values = "failed", {"status": OutboxStatus.FAILED, "last_error": error}
    else:
        outcome, values = "retry", {"status": OutboxStatus.PENDING, "last_error": error,
                                    "next_attempt_at": now + retry_delay(message.attempts)}
    if message.compose is not None:
        # composed by this sender: kept for the admins' mail reader
        values |= {"body_text": message.body_text, "body_html": message.body_html}
    with recorder.begin():
        recorder.execute(update(OutboxMessage.__table__).where(*_held_by(claimer, [message.id]))
                         .values(claimed_by=None, **values))
    return outcome


def _release(db: Database, messages: list[OutboxMessage], claimer: str, at) -> None:
    """Hands claimed messages back unsent, their attempt not counted."""
    if not messages:
        return
    with db.transaction() as session:
        session.execute(update(OutboxMessage).where(*_held_by(claimer, [m.id for m in messages])).values(
            status=OutboxStatus.PENDING, next_attempt_at=at, claimed_by=None, attempts=OutboxMessage.attempts - 1))


#: errors of the connection rather than of one message: the server is down, refuses us, or stopped answering
_CONNECTION_ERRORS = (OSError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, smtplib.SMTPHeloError,
                      smtplib.SMTPAuthenticationError)


def deliver_due(db: Database, transport, sender: str, *, limit: int = 200, claimer: str | None = None,
                keep_going: Callable[[], bool] = lambda: True) -> dict[str, int]:
    return _deliver_batch(db, transport, sender, limit, claimer or sender_id(), keep_going)[0]


def _deliver_batch(db: Database, transport, sender: str, limit: int, claimer: str,
                   keep_going: Callable[[], bool]) -> tuple[dict[str, int], bool]:
    """Sends one batch of what is due over one connection; failures are retried with exponential backoff, then
    marked failed. When the server cannot be reached or stops answering, the rest of the batch goes back unsent
    (tried again in a minute); so does what is left when `keep_going()` turns false or the lease nears its end.
    Returns the counts and whether the batch stopped short."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    claimed = _claim_due(db, limit, claimer)
    # the lease must outlast the batch, or a second sender would take its messages while they are being sent
    must_stop_at = time.monotonic() + SEND_LEASE.total_seconds() / 2
    with transport.connection() as connection, _outcome_recorder(db) as recorder:
        for index, message in enumerate(claimed):
            if not keep_going() or time.monotonic() > must_stop_at:
                _release(db, claimed[index:], claimer, utcnow())
                return counts, True
            error, connection_lost = None, False
            try:
                compose_pending_body(db, message)
                connection.send_message(build_email(message, sender, _attachments(db, message)))
            except _CONNECTION_ERRORS as exc:
                error, connection_lost = f"{type(exc).__name__}: {exc}", True
            except smtplib.SMTPException as exc:  # this message refused (a recipient, its size): the rest go on
                error = f"{type(exc).__name__}: {exc}"
            if error:
                log.warning("mail %s to %s failed: %s", message.id, message.to_address, error)
            counts[_record_outcome(recorder, message, claimer, error)] += 1
            if connection_lost:
                _release(db, claimed[index + 1:], claimer, utcnow() + retry_delay(1))
                return counts, True
    return counts, False


def deliver_until_done(db: Database, transport, sender: str, *, claimer: str | None = None,
                       keep_going: Callable[[], bool] = lambda: True, budget_seconds: float = 55) -> dict[str, int]:
    """Sends batch after batch while mail is due (a rush of 10,000 reminders drains at once, not 200 per run),
    until the server is lost, `keep_going()` turns false or the budget is spent (so each run is recorded)."""
    totals = {"sent": 0, "retry": 0, "failed": 0}
    claimer = claimer or sender_id()
    ends_at = time.monotonic() + budget_seconds
    while keep_going() and time.monotonic() < ends_at:
        counts, stopped_short = _deliver_batch(db, transport, sender, 200, claimer, keep_going)
        for key in totals:
            totals[key] += counts[key]
        if stopped_short or not any(counts.values()):
            break
    return totals


def free_claims_of(db: Database, claimer: str) -> int:
    """Makes the messages a dead sender was sending due now (a scheduler that takes over from a dead leader needs
    not wait for their lease); the one it was in the middle of may arrive twice."""
    with db.transaction() as session:
        return session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_by == claimer)
            .values(status=OutboxStatus.PENDING, next_attempt_at=utcnow(), claimed_by=None)
        ).rowcount


#: SMTP connections a sender process keeps busy at once: while one waits for the server, another sends
CONNECTIONS_PER_SENDER = 2


def deliver_outbox(app, keep_going: Callable[[], bool] = lambda: True) -> dict[str, int]:
    """What the scheduler (and `flask mail send`) runs: CONNECTIONS_PER_SENDER threads, each claiming batches of
    its own."""

    def one_connection() -> dict[str, int]:
        with app.app_context():  # attachment builders render in the recipient's language
            return deliver_until_done(app.extensions["portal.db"], transport_from_config(app.config),
                                      app.config["MAIL_SENDER"], keep_going=keep_going)

    with ThreadPoolExecutor(CONNECTIONS_PER_SENDER) as pool:
        results = [future.result() for future in [pool.submit(one_connection)
                                                  for _ in range(CONNECTIONS_PER_SENDER)]]
    return {key: sum(result[key] for result in results) for key in results[0]}


def resend(session: Session, message_id: int) -> bool:
    """A failed message goes back to the queue with its attempts anew; False when it was not failed (pressed
    twice, or sent meanwhile): nothing changes."""
    return _change_status(session, message_id, OutboxStatus.FAILED, status=OutboxStatus.PENDING, attempts=0,
                          next_attempt_at=utcnow())


def cancel(session: Session, message_id: int) -> bool:
    """A message waiting to be sent will not be; False when it was no longer waiting (a sender took it)."""
    return _change_status(session, message_id, OutboxStatus.PENDING, status=OutboxStatus.CANCELLED)


def _change_status(session: Session, message_id: int, expected: OutboxStatus, **values) -> bool:
    # one conditional UPDATE: a sender claiming the row at the same moment makes it match nothing
    changed = session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id,
                                                          OutboxMessage.status == expected)
                              .values(**values).execution_options(synchronize_session=False)).rowcount
    if not changed and session.get(OutboxMessage, message_id) is None:
        raise NotFound()
    return bool(changed)

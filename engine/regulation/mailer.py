"""E-mail delivery of in-app notifications through SMTP: off unless SMTP_HOST is set.

Each notification is sent, then marked (`emailed_at`), in one transaction of its own: at least
once, never lost. A crash after the server accepted a message but before the commit sends that
one message again on the next pass (it carries the same Message-ID, so mail clients can drop the
copy); nothing else in the batch is affected. On PostgreSQL the row is held with SKIP LOCKED
while it is sent, so several workers never send one notification twice.
"""
from __future__ import annotations

import logging
import re
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.core import i18n
from engine.regulation import access
from engine.regulation.organisation import User
from engine.regulation.records import Notification

log = logging.getLogger(__name__)
_N = Notification.__table__
_TIMEOUT_SECONDS = 10
# A server that cannot be reached is tried again after this pause, not on every pass: a timeout
# on each pass would delay the timers that share the worker.
_RETRY_AFTER_SECONDS = 60
_unreachable_until: dict[tuple[str, int], float] = {}
# ASCII addresses only: a relay without SMTPUTF8 would refuse the whole message for one other address.
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery pass did; `failed` ones stay pending, `refused` ones the server will never take."""

    sent: int = 0
    skipped_no_email: int = 0
    failed: int = 0
    refused: int = 0


def deliver_pending(ctx, limit: int = 100) -> DeliveryReport:
    """E-mail the oldest notifications not e-mailed yet; never raises for SMTP trouble (counts it)."""
    config = ctx.config
    if not config.smtp_host:
        return DeliveryReport()
    with ctx.unit_of_work(readonly=True) as session:
        ids = list(session.scalars(select(_N.c.id).where(_N.c.emailed_at.is_(None))
                                   .order_by(_N.c.created_at, _N.c.id).limit(limit)))
    counts = {"sent": 0, "skipped_no_email": 0, "failed": 0, "refused": 0}
    smtp = _Relay(config)
    try:
        for notification_id in ids:
            outcome = _deliver_one(ctx, smtp, notification_id)
            if outcome in counts:
                counts[outcome] += 1
    finally:
        smtp.close()
    report = DeliveryReport(**counts)
    if report != DeliveryReport():
        log.info("e-mail: %s", report)
    return report


def recipients(session: Session, notification) -> list[str]:
    """The e-mail addresses a notification goes to (users without an address are left out).

    A user: that user, if active. A role in a unit: the people the in-app list shows it to
    (access.notice_recipients; the Office's divisions count as the Office). Unknown units or roles, or
    none, give no one: a notification is never an error.
    """
    if notification.user_id is not None:
        ids = [notification.user_id]
    elif notification.role:
        ids = access.notice_recipients(session, notification.unit_code, notification.role)
    else:
        ids = []
    emails = session.scalars(select(User.email).where(User.id.in_(ids), User.active.is_(True)).order_by(User.id))
    addresses = [email.strip() for email in emails if email and _ADDRESS.fullmatch(email.strip())]
    return list(dict.fromkeys(addresses))


def _deliver_one(ctx, smtp: _Relay, notification_id: int) -> str | None:
    # The send happens inside the transaction that marks it, so the mark never precedes the send.
    # On SQLite that holds the write lock for one send (bounded by the timeout): acceptable for the
    # single-worker setups SQLite serves; on PostgreSQL only this notification's row is held.
    with ctx.unit_of_work() as session:
        row = session.connection().execute(
            select(_N).where(_N.c.id == notification_id, _N.c.emailed_at.is_(None))
            .with_for_update(skip_locked=True)).first()
        if row is None:
            return None  # e-mailed or being e-mailed by another worker meanwhile
        addresses = recipients(session, row)
        outcome = smtp.send(_message(ctx, row, addresses), row.id) if addresses else "skipped_no_email"
        if outcome != "failed":
            session.connection().execute(update(_N).where(_N.c.id == row.id).values(emailed_at=ctx.now()))
        return outcome


def _message(ctx, row, addresses: list[str]) -> EmailMessage:
    message = EmailMessage()
    # A title may hold a user's text; header lines must not (no header injection).
    message["Subject"] = " ".join(row.title.split())
    message["From"] = ctx.config.mail_from
    message["To"] = ", ".join(addresses)
    message["Date"] = format_datetime(ctx.now())
    domain = ctx.config.mail_from.rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<notification-{row.id}@{domain}>"  # the same on a re-send
    lines = [row.body or ""]
    if row.instance_id is not None:
        lines.append(i18n.text("notification.email_instance", "vi", instance=row.instance_id))
    # Quoted-printable: 7-bit clean for any relay, whatever the accents.
    message.set_content("\n\n".join(line for line in lines if line) + "\n", charset="utf-8",
                        cte="quoted-printable")
    return message


class _Relay:
    """One SMTP connection for a pass, opened only when a message has someone to go to."""

    def __init__(self, config):
        self.config, self.client = config, None
        self.key = (config.smtp_host, config.smtp_port)
        self.down = _unreachable_until.get(self.key, 0.0) > time.monotonic()

    def send(self, message: EmailMessage, notification_id: int) -> str:
        """'sent', 'refused' (permanently, for this message) or 'failed' (try again on a later pass)."""
        if self.down:
            return "failed"
        try:
            if self.client is None:
                self.client = _connect(self.config)
            self.client.send_message(message)
            return "sent"
        except (smtplib.SMTPException, OSError) as error:
            if _permanent(error):
                log.warning("e-mail for notification %s refused for good: %s", notification_id, error)
                return "refused"
            log.warning("e-mail delivery stopped for this pass: %s: %s", type(error).__name__, error)
            self.down = True
            _unreachable_until[self.key] = time.monotonic() + _RETRY_AFTER_SECONDS
            return "failed"

    def close(self) -> None:
        """Say goodbye if connected; a server already gone is no error."""
        if self.client is not None:
            try:
                self.client.quit()
            except (smtplib.SMTPException, OSError):
                self.client.close()


def _connect(config) -> smtplib.SMTP:
    client = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=_TIMEOUT_SECONDS)
    try:
        if config.smtp_starttls:
            client.starttls(context=ssl.create_default_context())
        if config.smtp_user:
            client.login(config.smtp_user, config.smtp_password)
    except BaseException:
        client.close()
        raise
    return client


def _permanent(error: Exception) -> bool:
    # Only a 5xx about this message's recipients or content stays true on a retry. Connection,
    # login, sender and 4xx trouble may pass: those notifications wait for a later pass.
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return isinstance(error, smtplib.SMTPDataError) and error.smtp_code >= 500

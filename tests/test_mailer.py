"""E-mail delivery of notifications, against a real SMTP conversation with a local sink server."""
from __future__ import annotations

import dataclasses
import email
import email.policy
import re
import socket
import socketserver
import threading

import pytest
from sqlalchemy import select, update

from engine.core.config import Config
from engine.regulation import mailer, notifications
from engine.regulation.mailer import DeliveryReport, deliver_pending
from engine.regulation.organisation import User
from engine.regulation.records import Notification

TITLE = "Nhiệm vụ mới: Rà soát văn bản quy phạm pháp luật năm 2025"


class Sink(socketserver.ThreadingTCPServer):
    """A tiny SMTP server that keeps what it receives: HELO/EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    daemon_threads = allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []
        self.connections = 0
        self.refuse: dict[str, int] = {}   # address -> reply code to RCPT
        self.hang_up_at: int | None = None  # drop the connection instead of accepting message n (1-based)


class _SmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, text: str) -> None:
        self.wfile.write(text.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        sink: Sink = self.server
        sink.connections += 1
        self.reply("220 sink ESMTP")
        sender, rcpts = "", []
        while line := self.rfile.readline():
            command = line.decode("ascii", "replace").strip()
            verb, address = command[:4].upper(), (re.findall(r"<([^>]*)>", command) or [""])[0]
            if verb in ("HELO", "EHLO"):
                self.reply("250 sink")
            elif verb == "MAIL":
                sender, rcpts = address, []
                self.reply("250 OK")
            elif verb == "RCPT" and address in sink.refuse:
                self.reply(f"{sink.refuse[address]} no such user")
            elif verb == "RCPT":
                rcpts.append(address)
                self.reply("250 OK")
            elif verb == "DATA" and not rcpts:
                self.reply("503 no valid recipients")
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = b"".join(iter(lambda: self.rfile.readline(), b".\r\n"))
                data = re.sub(rb"(?m)^\.\.", b".", data)  # undo dot-stuffing
                if sink.hang_up_at == len(sink.messages) + 1:
                    return
                sink.messages.append((sender, rcpts, email.message_from_bytes(data, policy=email.policy.default)))
                sender, rcpts = "", []
                self.reply("250 queued")
            elif verb in ("RSET", "NOOP"):
                sender, rcpts = ("", []) if verb == "RSET" else (sender, rcpts)
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


@pytest.fixture(autouse=True)
def _forget_unreachable_servers():
    mailer._unreachable_until.clear()
    yield
    mailer._unreachable_until.clear()


@pytest.fixture
def sink():
    """A running SMTP sink on a free local port."""
    server = Sink()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp_on(ctx):
    """Point the context's SMTP settings at a port (delivery is off until this is used)."""
    def _on(port: int):
        ctx.config = dataclasses.replace(ctx.config, smtp_host="127.0.0.1", smtp_port=port,
                                         mail_from="cddh@vpubnd.bentre.gov.vn")
    return _on


def _set_emails(ctx, **emails):
    with ctx.unit_of_work() as session:
        for username, address in emails.items():
            session.execute(update(User).where(User.username == username).values(email=address))


def _notify(ctx, title=TITLE, **where) -> int:
    with ctx.unit_of_work() as session:
        notifications.notify(session, kind="task_ready", title=title, now=ctx.now(), **where)
        return session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1))


def _emailed(ctx) -> dict[int, bool]:
    with ctx.unit_of_work(readonly=True) as session:
        return {row.id: row.emailed_at is not None for row in session.scalars(select(Notification))}


def test_a_unit_role_notification_reaches_its_holders_with_a_vietnamese_subject(ctx, sink, smtp_on):
    smtp_on(sink.server_address[1])
    _set_emails(ctx, **{"dm.sotuphap": "trang.dm@stp.bentre.gov.vn", "ld.sotuphap": "hung@stp.bentre.gov.vn"})
    first = _notify(ctx, unit_code="so-tu-phap", role="unit_focal_point", body="Hạn xử lý: 08/05/2025", instance_id=42)
    assert deliver_pending(ctx) == DeliveryReport(sent=1)
    [(sender, rcpts, message)] = sink.messages
    assert sender == "cddh@vpubnd.bentre.gov.vn" and rcpts == ["trang.dm@stp.bentre.gov.vn"]
    assert message["Subject"] == TITLE and message["To"] == "trang.dm@stp.bentre.gov.vn"
    assert message["Message-ID"] == f"<notification-{first}@vpubnd.bentre.gov.vn>"
    assert message.get_content_type() == "text/plain" and message.get_content_charset() == "utf-8"
    assert "Hạn xử lý: 08/05/2025" in message.get_content() and "42" in message.get_content()
    assert _emailed(ctx) == {first: True}
    assert deliver_pending(ctx) == DeliveryReport() and len(sink.messages) == 1   # never sent twice


def test_office_wide_and_personal_notifications_find_their_addresses(ctx, sink, smtp_on):
    smtp_on(sink.server_address[1])
    _set_emails(ctx, **{"cv.hoa": "hoa@vpubnd.bentre.gov.vn", "cv.minh": "minh@vpubnd.bentre.gov.vn",
                        "cv.tuan": "tuan@vpubnd.bentre.gov.vn", "ld.vanphong": "mai@vpubnd.bentre.gov.vn"})
    _notify(ctx, title="Nhiệm vụ bị trả lại", role="tracking_specialist")          # no unit: the whole Office
    with ctx.unit_of_work(readonly=True) as session:
        leader = session.scalar(select(User.id).where(User.username == "ld.vanphong"))
    _notify(ctx, title="Quá hạn\r\nBcc: attacker@example.com", user_id=leader)    # a title is not a header
    assert deliver_pending(ctx) == DeliveryReport(sent=2)
    (_, office, _), (_, personal, message) = sink.messages
    assert sorted(office) == ["hoa@vpubnd.bentre.gov.vn", "minh@vpubnd.bentre.gov.vn", "tuan@vpubnd.bentre.gov.vn"]
    assert personal == ["mai@vpubnd.bentre.gov.vn"]
    assert message["Subject"] == "Quá hạn Bcc: attacker@example.com" and message["Bcc"] is None


def test_delivery_is_off_by_default(ctx, sink):
    assert Config().smtp_host == "" and Config.from_env({}).smtp_host == ""
    _set_emails(ctx, **{"cv.hoa": "hoa@vpubnd.bentre.gov.vn"})
    _notify(ctx, role="tracking_specialist", unit_code="vp-ubnd")
    assert deliver_pending(ctx) == DeliveryReport()
    assert sink.connections == 0 and not any(_emailed(ctx).values())


def test_an_unreachable_server_marks_nothing_and_does_not_raise(ctx, smtp_on, monkeypatch):
    with socket.socket() as probe:          # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    smtp_on(closed_port)
    _set_emails(ctx, **{"cv.hoa": "hoa@vpubnd.bentre.gov.vn"})
    _notify(ctx, role="tracking_specialist", unit_code="vp-ubnd")
    _notify(ctx, title="Lần hai", role="tracking_specialist")
    assert deliver_pending(ctx) == DeliveryReport(failed=2)
    assert not any(_emailed(ctx).values())

    def no_connection(*args, **kwargs):
        raise AssertionError("tried again at once")

    monkeypatch.setattr(mailer.smtplib, "SMTP", no_connection)   # the next passes wait a while
    assert deliver_pending(ctx) == DeliveryReport(failed=2)


def test_recipients_without_email_are_skipped_and_marked(ctx, sink, smtp_on):
    smtp_on(sink.server_address[1])
    no_address = _notify(ctx, role="unit_focal_point", unit_code="so-tai-chinh")      # seeded users have none
    unknown_unit = _notify(ctx, role="unit_focal_point", unit_code="huyen-da-giai-the")
    assert deliver_pending(ctx) == DeliveryReport(skipped_no_email=2)
    assert _emailed(ctx) == {no_address: True, unknown_unit: True}
    assert sink.connections == 0   # nothing to send: no connection either


def test_each_mark_is_committed_after_its_own_send(ctx, sink, smtp_on):
    smtp_on(sink.server_address[1])
    _set_emails(ctx, **{"cv.hoa": "hoa@vpubnd.bentre.gov.vn"})
    ids = [_notify(ctx, title=f"Thông báo {n}", role="tracking_specialist", unit_code="vp-ubnd") for n in (1, 2, 3)]
    sink.hang_up_at = 2    # the server goes away while taking the second message
    assert deliver_pending(ctx) == DeliveryReport(sent=1, failed=2)
    assert _emailed(ctx) == {ids[0]: True, ids[1]: False, ids[2]: False}
    mailer._unreachable_until.clear()
    sink.hang_up_at = None
    assert deliver_pending(ctx) == DeliveryReport(sent=2)
    assert [m["Subject"] for _, _, m in sink.messages] == ["Thông báo 1", "Thông báo 2", "Thông báo 3"]


def test_a_permanently_refused_recipient_is_not_retried_but_a_temporary_refusal_is(ctx, sink, smtp_on):
    smtp_on(sink.server_address[1])
    _set_emails(ctx, **{"dm.sotaichinh": "nobody@stc.bentre.gov.vn", "dm.sokhdt": "busy@skhdt.bentre.gov.vn"})
    sink.refuse = {"nobody@stc.bentre.gov.vn": 550, "busy@skhdt.bentre.gov.vn": 450}
    refused = _notify(ctx, role="unit_focal_point", unit_code="so-tai-chinh")
    later = _notify(ctx, role="unit_focal_point", unit_code="so-ke-hoach-dau-tu")
    assert deliver_pending(ctx) == DeliveryReport(refused=1, failed=1)
    assert _emailed(ctx) == {refused: True, later: False} and sink.messages == []


# SQLite has one writer at a time: there is no row lock to hold there.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_notification_held_by_another_worker_is_left_to_it(ctx, sink, smtp_on):
    smtp_on(sink.server_address[1])
    _set_emails(ctx, **{"cv.hoa": "hoa@vpubnd.bentre.gov.vn"})
    held, free = (_notify(ctx, title=title, role="tracking_specialist", unit_code="vp-ubnd") for title in "AB")
    with ctx.db.engine.connect() as other, other.begin():
        other.execute(select(Notification.id).where(Notification.id == held).with_for_update())
        assert deliver_pending(ctx) == DeliveryReport(sent=1)
    assert _emailed(ctx) == {held: False, free: True} and [m["Subject"] for _, _, m in sink.messages] == ["B"]


def test_smtp_settings_come_from_the_environment():
    config = Config.from_env({"SMTP_HOST": "mail.bentre.gov.vn", "SMTP_PORT": "587", "SMTP_USER": "cddh",
                              "SMTP_PASSWORD": "bí-mật", "SMTP_STARTTLS": "1", "MAIL_FROM": "cddh@bentre.gov.vn"})
    assert (config.smtp_host, config.smtp_port, config.smtp_user, config.smtp_starttls, config.mail_from) == \
        ("mail.bentre.gov.vn", 587, "cddh", True, "cddh@bentre.gov.vn")
    assert config.smtp_password == "bí-mật" and "bí-mật" not in repr(config)

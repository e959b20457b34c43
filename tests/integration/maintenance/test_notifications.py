"""Notifications reach real receivers (an HTTP server, an SMTP server on loopback), with retries
and a delivery log; a failing or hanging receiver never holds up whoever notified."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from maintenance.notifications.channels import EmailChannel, SmtpServer, WebhookChannel
from maintenance.notifications.models import NotificationDelivery
from maintenance.notifications.notifier import Notification
from maintenance.notifications.outbox import Outbox
from maintenance.storage.db import Database
from tests.ledger import NOW
from tests.servers import free_port

BREACH = Notification("sla_breach", "sup-chen", 12, "response due 09:15 breached")


class Receiver:
    """An HTTP endpoint that answers the statuses it is given, in turn, and keeps the bodies."""

    def __init__(self, statuses: list[int], delay_s: float = 0.0) -> None:
        self.statuses, self.delay_s = list(statuses), delay_s
        self.bodies: list[Any] = []  # the decoded JSON bodies
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.bodies.append(orjson.loads(body))
                time.sleep(receiver.delay_s)
                status = (
                    receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                )
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def close(self) -> None:
        self.server.shutdown()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def log(db: Database) -> list[NotificationDelivery]:
    with db.read() as s:
        return list(s.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id)))


def test_a_webhook_that_fails_twice_gets_it_on_the_third_try(database: Database) -> None:
    receiver = Receiver([500, 503, 200])
    clock = Clock()
    outbox = Outbox(database, [WebhookChannel(receiver.url)], backoff_s=10, clock=clock)
    try:
        outbox.notify(BREACH)
        outbox.notify(Notification("accepted", "tenant", 3, "not a delivered kind"))
        assert outbox.record_queued() == 1
        assert outbox.deliver_due() == 0  # 500
        assert outbox.deliver_due() == 0  # not due before its backoff
        clock.now += timedelta(seconds=10)
        assert outbox.deliver_due() == 0  # 503
        clock.now += timedelta(seconds=19)
        assert outbox.deliver_due() == 0  # the second backoff is 20 s
        clock.now += timedelta(seconds=1)
        assert outbox.deliver_due() == 1
    finally:
        receiver.close()
    (row,) = log(database)
    assert (row.status, row.attempts, row.last_error, row.sent_at) == ("sent", 3, None, clock.now)
    assert receiver.bodies[-1] == {
        "kind": "sla_breach",
        "recipient": "sup-chen",
        "ticket_id": 12,
        "alarm_id": None,
        "message": "response due 09:15 breached",
    }


def test_a_refusing_receiver_fails_at_once_and_a_dead_one_after_the_attempts(
    database: Database,
) -> None:
    refusing = Receiver([404])
    clock = Clock()
    dead = WebhookChannel(f"http://127.0.0.1:{free_port()}/nobody", timeout_s=0.5)
    outbox = Outbox(
        database, [WebhookChannel(refusing.url), dead], max_attempts=3, backoff_s=1, clock=clock
    )
    try:
        outbox.notify(BREACH)
        outbox.record_queued()
        for _ in range(4):
            outbox.deliver_due()
            clock.now += timedelta(seconds=10)
    finally:
        refusing.close()
    refused, unreachable = log(database)
    assert (refused.status, refused.attempts) == ("failed", 1)
    assert refused.last_error is not None and refused.last_error.startswith("HTTP 404")
    assert (unreachable.status, unreachable.attempts) == ("failed", 3)
    assert unreachable.last_error is not None and "Connect" in unreachable.last_error


def test_notify_never_waits_for_a_hanging_receiver(database: Database) -> None:
    hanging = Receiver([200], delay_s=2)
    outbox = Outbox(database, [WebhookChannel(hanging.url, timeout_s=0.5)], backoff_s=0.1)
    outbox.start(interval_s=0.05)
    try:
        started = time.perf_counter()
        for n in range(20):
            outbox.notify(Notification("escalation", "sup", n, "escalated"))
        assert time.perf_counter() - started < 0.1
        deadline = time.monotonic() + 10
        while len(log(database)) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        outbox.stop()
        hanging.close()
    assert len(log(database)) == 20  # recorded even though none could be delivered yet


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, list[Message]]]:
    received: list[Message] = []

    class Handler:
        async def handle_RCPT(
            self, server: Any, session: Any, envelope: Any, address: str, options: Any
        ) -> str:
            if address.startswith("nobody@"):
                return "550 no such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            from email import message_from_bytes

            received.append(message_from_bytes(envelope.content))
            return "250 Message accepted"

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, received
    controller.stop()


def test_email_reaches_a_real_smtp_server_and_a_refused_mailbox_is_final(
    database: Database, smtp: tuple[Controller, list[Message]]
) -> None:
    controller, received = smtp
    server = SmtpServer.from_url(f"smtp://127.0.0.1:{controller.port}")
    good = EmailChannel(server, "facility@estate.example", ["ops@estate.example"])
    bad = EmailChannel(server, "facility@estate.example", ["nobody@estate.example"])
    outbox = Outbox(database, [good, bad], clock=Clock())
    outbox.notify(
        Notification(
            "critical_alarm",
            "estate-1 engineering",
            None,
            "Fire alarm on estate-1/fire-001",
            alarm_id=4,
        )
    )
    outbox.record_queued()
    assert outbox.deliver_due() == 1
    (mail,) = received
    assert mail["Subject"] == "[facility] critical_alarm: Fire alarm on estate-1/fire-001"
    assert mail["To"] == "ops@estate.example"
    assert "Alarm: 4" in mail.get_payload()
    sent, refused = log(database)
    assert (sent.status, refused.status, refused.attempts) == ("sent", "failed", 1)
    assert refused.last_error is not None and "550" in refused.last_error


def test_email_in_chinese_is_the_robots_card(
    database: Database, smtp: tuple[Controller, list[Message]]
) -> None:
    controller, received = smtp
    server = SmtpServer.from_url(f"smtp://127.0.0.1:{controller.port}")
    channel = EmailChannel(
        server, "facility@estate.example", ["ops@estate.example"], language="zh-CN"
    )
    outbox = Outbox(database, [channel], clock=Clock())
    outbox.notify(
        Notification(
            "critical_alarm",
            "estate-1 engineering",
            None,
            "Fire alarm on estate-1/fire-001",
            alarm_id=4,
            site="estate-1",
            device="fire-001",
            severity="critical",
            facts={"message:zh-CN": "火警"},
        )
    )
    outbox.record_queued()
    assert outbox.deliver_due() == 1
    (mail,) = received
    assert str(make_header(decode_header(mail["Subject"]))) == "[facility] 严重告警: 火警"
    body = mail.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert body.decode().splitlines() == [
        "火警",
        "",
        "级别: 严重",
        "项目: estate-1",
        "设备: fire-001",
        "告警: #4",
        "接收人: estate-1 engineering",
    ]

"""The group robots of WeCom, DingTalk and Feishu against a receiver that checks each
platform's documented payload and signature and answers its documented codes: a card in the
group's language with the alarm or ticket, severity, site, device and a link to the console;
DingTalk's 20 a minute kept by queueing, never dropping; codes read as later, retry or final
in the delivery log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from maintenance.notifications.models import NotificationDelivery
from maintenance.notifications.notifier import Notification
from maintenance.notifications.outbox import Outbox
from maintenance.notifications.robots import Robot, RobotChannel, RobotKind
from maintenance.storage.db import Database
from tests.robot_receiver import RobotReceiver

SECRET = "SEC3c5e0f1a2b4d6e8f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4"
CONSOLE = "https://console.example.cn"
ALARM = Notification(
    "critical_alarm",
    "hepan engineering",
    7,
    "Passenger trapped in the car on hepan/e1",
    alarm_id=41,
    site="hepan",
    device="e1",
    severity="critical",
    facts={"message:en": "Passenger trapped in the car", "message:zh-CN": "乘客被困轿厢"},
)


class Time:
    """The one clock of a test: the robots sign and pace by it, the outbox schedules by it
    and the receiver checks timestamps and its window by it."""

    def __init__(self) -> None:
        self.s = time.time()

    def __call__(self) -> float:
        return self.s

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.s, UTC)


@pytest.fixture
def clock() -> Time:
    return Time()


def robot_outbox(
    database: Database, clock: Time, kind: RobotKind, receiver: RobotReceiver, **robot: object
) -> Outbox:
    channel = RobotChannel(
        Robot(kind, receiver.url, **robot),  # type: ignore[arg-type]
        console_url=CONSOLE,
        clock=clock,
    )
    return Outbox(database, [channel], backoff_s=10, clock=clock.now)


def log(database: Database) -> list[tuple[str, int, str | None]]:
    with database.read() as s:
        rows = s.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id))
        return [(r.status, r.attempts, r.last_error) for r in rows]


@pytest.fixture
def receivers() -> Iterator[list[RobotReceiver]]:
    made: list[RobotReceiver] = []
    yield made
    for receiver in made:
        receiver.close()


def test_wecom_gets_a_markdown_card_in_chinese_with_the_facts_and_the_link(
    database: Database, clock: Time, receivers: list[RobotReceiver]
) -> None:
    receiver = RobotReceiver("wecom", clock=clock)
    receivers.append(receiver)
    outbox = robot_outbox(database, clock, "wecom", receiver, sites=("hepan",))
    outbox.notify(ALARM)
    outbox.notify(Notification("critical_alarm", "x", None, "elsewhere", site="riverside"))
    assert outbox.record_queued() == 2
    assert outbox.deliver_due() == 1  # the robot of hepan's group takes only hepan's
    (body,) = receiver.accepted
    assert body == {
        "msgtype": "markdown",
        "markdown": {
            "content": "\n".join(
                [
                    '### <font color="warning">严重告警</font>',
                    "",
                    "乘客被困轿厢",
                    "",
                    "> 级别: 严重",
                    "> 项目: hepan",
                    "> 设备: e1",
                    "> 工单: #7",
                    "> 告警: #41",
                    "> 接收人: hepan engineering",
                    "",
                    f"[在监控台查看]({CONSOLE}/console/tickets/7)",
                ]
            )
        },
    }
    assert log(database) == [("sent", 1, None)]


def test_wecom_busy_is_retried_and_its_rate_limit_waits(
    database: Database, clock: Time, receivers: list[RobotReceiver]
) -> None:
    receiver = RobotReceiver("wecom", clock=clock, scripted=[-1, 45009])
    receivers.append(receiver)
    outbox = robot_outbox(database, clock, "wecom", receiver)
    outbox.notify(ALARM)
    outbox.record_queued()
    assert outbox.deliver_due() == 0
    assert log(database) == [("pending", 1, "HTTP 200, code -1: system busy")]  # retry: counted
    clock.s += 10
    assert outbox.deliver_due() == 0
    # The rate limit: later, and the attempt does not count against the delivery.
    assert log(database) == [("pending", 1, "HTTP 200, code 45009: api freq out of limit")]
    clock.s += 30
    assert outbox.deliver_due() == 0  # a minute is not over
    clock.s += 31
    assert outbox.deliver_due() == 1
    assert log(database) == [("sent", 2, None)]
    assert receiver.refused == [-1, 45009]


def test_dingtalk_signed_markdown_and_twenty_a_minute_queued_never_dropped(
    database: Database, clock: Time, receivers: list[RobotReceiver]
) -> None:
    receiver = RobotReceiver("dingtalk", secret=SECRET, clock=clock)
    receivers.append(receiver)
    outbox = robot_outbox(database, clock, "dingtalk", receiver, secret=SECRET, language="en")
    for n in range(25):
        outbox.notify(replace(ALARM, alarm_id=100 + n))
    assert outbox.record_queued() == 25
    assert outbox.deliver_due() == 20
    assert receiver.refused == []  # the robot's limit was kept on our side, not hit
    states = log(database)
    assert states[:20] == [("sent", 1, None)] * 20
    assert (
        states[20:] == [("pending", 0, "rate limit 20/60 s: queued")] + [("pending", 0, None)] * 4
    )
    clock.s += 30
    assert outbox.deliver_due() == 0
    clock.s += 31
    assert outbox.deliver_due() == 5
    assert [s for s, _, _ in log(database)] == ["sent"] * 25
    assert len(receiver.accepted) == 25 and receiver.refused == []
    first = receiver.accepted[0]
    assert first["msgtype"] == "markdown"
    assert first["markdown"]["title"] == "Critical alarm"
    assert first["markdown"]["text"].splitlines()[:3] == [
        "### **Critical alarm**",
        "",
        "Passenger trapped in the car",
    ]
    assert f"[Open in the console]({CONSOLE}/console/tickets/7)" in first["markdown"]["text"]
    assert [b["markdown"]["text"].count("> Alarm: #1") for b in receiver.accepted] == [1] * 25


def test_dingtalk_too_fast_waits_and_a_wrong_secret_fails_for_good(
    database: Database, clock: Time, receivers: list[RobotReceiver]
) -> None:
    # A robot shared with another sender: the platform's own "too fast" still only delays.
    busy = RobotReceiver("dingtalk", secret=SECRET, clock=clock, scripted=[130101])
    wrong = RobotReceiver("dingtalk", secret=SECRET, clock=clock)
    receivers += [busy, wrong]
    outbox = robot_outbox(database, clock, "dingtalk", busy, secret=SECRET)
    outbox.notify(ALARM)
    outbox.record_queued()
    outbox.deliver_due()
    assert log(database) == [
        ("pending", 0, "HTTP 200, code 130101: send too fast, exceed 20 times per minute")
    ]
    clock.s += 61
    assert outbox.deliver_due() == 1
    refusing = robot_outbox(database, clock, "dingtalk", wrong, secret=SECRET + "x")
    refusing.notify(ALARM)
    refusing.record_queued()
    assert refusing.deliver_due() == 0
    assert log(database)[1] == ("failed", 1, "HTTP 200, code 310000: sign not match")


def test_feishu_signed_interactive_card_frequency_limit_and_a_refused_signature(
    database: Database, clock: Time, receivers: list[RobotReceiver]
) -> None:
    receiver = RobotReceiver("feishu", secret=SECRET, clock=clock, scripted=[11232])
    receivers.append(receiver)
    outbox = robot_outbox(database, clock, "feishu", receiver, secret=SECRET)
    outbox.notify(ALARM)
    outbox.record_queued()
    assert outbox.deliver_due() == 0
    assert log(database) == [("pending", 0, "HTTP 200, code 11232: frequency limited psm")]
    clock.s += 61
    assert outbox.deliver_due() == 1
    (body,) = receiver.accepted
    assert set(body) == {"timestamp", "sign", "msg_type", "card"}
    assert body["timestamp"] == str(int(clock.s))
    card = body["card"]
    assert card["header"] == {
        "title": {"tag": "plain_text", "content": "严重告警"},
        "template": "red",
    }
    assert card["elements"][0] == {
        "tag": "div",
        "text": {"tag": "lark_md", "content": "乘客被困轿厢"},
    }
    fields = [f["text"]["content"] for f in card["elements"][1]["fields"]]
    assert fields[:3] == ["**级别**\n严重", "**项目**\nhepan", "**设备**\ne1"]
    (button,) = card["elements"][2]["actions"]
    assert (button["text"]["content"], button["url"]) == (
        "在监控台查看",
        f"{CONSOLE}/console/tickets/7",
    )

    unsigned = robot_outbox(database, clock, "feishu", receiver, secret="another secret")
    unsigned.notify(ALARM)
    unsigned.record_queued()
    assert unsigned.deliver_due() == 0
    assert log(database)[1] == (
        "failed",
        1,
        "HTTP 200, code 19021: sign match fail or timestamp is not within one hour from "
        "current time",
    )


def test_an_sla_breach_is_said_with_its_due_time_in_the_sites_zone(
    database: Database, clock: Time, receivers: list[RobotReceiver]
) -> None:
    receiver = RobotReceiver("dingtalk", clock=clock)
    receivers.append(receiver)
    outbox = robot_outbox(database, clock, "dingtalk", receiver)
    outbox.notify(
        Notification(
            "sla_breach",
            "sup-chen",
            12,
            "response due 2026-12-02T01:15:00+00:00 breached",
            facts={"sla": "response", "due": "2026-12-02T01:15:00+00:00"},
        )
    )
    outbox.record_queued()
    assert outbox.deliver_due() == 1
    text = receiver.accepted[0]["markdown"]["text"]
    assert text.splitlines()[:3] == [
        "### **服务超时**",
        "",
        "响应时限 2026年12月2日 09:15:00 +0800 已过。",
    ]

"""Notifications to people (supervisors, engineering staff): what is said, and to whom.
How it reaches them (webhook, e-mail, with retries and a delivery log) is
`maintenance.notifications`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Notification:
    kind: str  # critical_alarm, sla_breach, sla_near_breach, escalation, ...
    recipient: str
    ticket_id: int | None
    message: str
    alarm_id: int | None = None
    site: str | None = None  # the site code, when the notification is about one (flood grouping)
    device: str | None = None
    severity: str | None = None
    # What the message says, as values a channel can say in its own language: "message:zh-CN"
    # (a rule's message per language), "sla" (response/resolution), "due" (ISO time).
    facts: dict[str, str] | None = None


class Notifier(Protocol):
    def notify(self, notification: Notification) -> None: ...


class LogNotifier:
    def notify(self, notification: Notification) -> None:
        log.info(
            "notify %s (%s) about ticket %s: %s",
            notification.recipient,
            notification.kind,
            notification.ticket_id,
            notification.message,
        )


class CollectingNotifier:
    """Keeps what it was asked to send: for the console until channels exist, and for tests."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def notify(self, notification: Notification) -> None:
        self.sent.append(notification)

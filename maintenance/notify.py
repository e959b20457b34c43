"""Notifications to people (supervisors, requesters). Later work adds e-mail and webhooks."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Notification:
    kind: str  # sla_breach, sla_near_breach, escalation, accepted, ...
    recipient: str
    ticket_id: int
    message: str


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

"""The notifier the service runs with: `notify()` only queues (it is called inside other
transactions and on the alarm path, so it never waits on a receiver or the database); a worker
records one delivery per channel in `notification_deliveries` and sends what is due, retrying with
exponential backoff, until it is sent or has failed for good. The table is the delivery log."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from ingest.redact import mask_text
from maintenance.notifications.channels import Channel, DeliveryDeferred, DeliveryFailed
from maintenance.notifications.grouping import FloodGrouping
from maintenance.notifications.models import NotificationDelivery
from maintenance.notifications.notifier import Notification, Notifier
from maintenance.storage.db import Database, utcnow

log = logging.getLogger(__name__)

DEFAULT_KINDS = frozenset({"critical_alarm", "sla_breach", "escalation"})


class Outbox:
    def __init__(
        self,
        database: Database,
        channels: Sequence[Channel],
        *,
        kinds: frozenset[str] = DEFAULT_KINDS,
        also: Notifier | None = None,
        max_attempts: int = 6,
        backoff_s: float = 5.0,
        clock: Callable[[], datetime] = utcnow,
        grouping: FloodGrouping | None = None,
    ) -> None:
        self.database = database
        self.grouping = grouping
        self.channels = {channel.name: channel for channel in channels}
        self._former = {
            former: channel
            for channel in channels
            for former in getattr(channel, "former_names", ())
        }
        self.kinds = kinds
        self.also = also
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.clock = clock
        self._queue: queue.Queue[Notification] = queue.Queue()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def notify(self, notification: Notification) -> None:
        if self.grouping is None:
            self._accept(notification)
            return
        for admitted in self.grouping.admit(notification):
            self._accept(admitted)

    def _accept(self, notification: Notification) -> None:
        if self.also is not None:
            self.also.notify(notification)
        if notification.kind in self.kinds and self.channels:
            self._queue.put(notification)
            self._wake.set()

    # -- the worker --------------------------------------------------------------------------

    def start(self, interval_s: float = 1.0) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(interval_s,), name="notifications", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=30)

    def _run(self, interval_s: float) -> None:
        while not self._stop.is_set():
            self._wake.wait(interval_s)
            self._wake.clear()
            for grouped in self.grouping.due() if self.grouping else []:
                self._accept(grouped)
            try:
                self.record_queued()
                self.deliver_due()
            except Exception:  # the database may be away; the queue and the table keep it all
                log.exception("notification delivery round failed")
        for grouped in self.grouping.flush() if self.grouping else []:
            self._accept(grouped)
        self.record_queued()  # nothing queued or held is lost at a clean stop

    def record_queued(self) -> int:
        """One pending delivery per channel for everything queued."""
        taken: list[Notification] = []
        while True:
            try:
                taken.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if not taken:
            return 0
        now = self.clock()
        with self.database.transaction() as session:
            for n in taken:
                for name, channel in self.channels.items():
                    if not _takes(channel, n):
                        continue
                    session.add(
                        NotificationDelivery(
                            kind=n.kind,
                            channel=name,
                            recipient=n.recipient,
                            ticket_id=n.ticket_id,
                            alarm_id=n.alarm_id,
                            message=n.message,
                            site=n.site,
                            device=n.device,
                            severity=n.severity,
                            facts=n.facts,
                            status="pending",
                            attempts=0,
                            created_at=now,
                            next_attempt_at=now,
                        )
                    )
        return len(taken)

    def deliver_due(self) -> int:
        """Sends every pending delivery whose time has come; answers how many were sent."""
        now = self.clock()
        with self.database.read() as session:
            due = list(
                session.scalars(
                    select(NotificationDelivery)
                    .where(
                        NotificationDelivery.status == "pending",
                        NotificationDelivery.next_attempt_at <= now,
                    )
                    .order_by(NotificationDelivery.id)
                    .limit(500)
                )
            )
        sent = 0
        paced: set[str] = set()  # channels at their rate limit: the rest of theirs wait, in order
        for delivery in due:
            if self._stop.is_set():
                break  # stopping: the rest stay pending for the next start
            if delivery.channel in paced:
                continue
            channel = self.channels.get(delivery.channel) or self._former.get(delivery.channel)
            error: DeliveryFailed | None = None
            if channel is None:
                error = DeliveryFailed("channel no longer configured", retry=False)
            else:
                try:
                    channel.send(_notification(delivery))
                except DeliveryFailed as failed:
                    error = failed
                except Exception as unexpected:  # a channel bug: keep trying, log it
                    log.exception("channel %s failed", mask_text(delivery.channel))
                    error = DeliveryFailed(repr(unexpected), retry=True)
            sent += error is None
            if isinstance(error, DeliveryDeferred):
                paced.add(delivery.channel)
            self._record(delivery.id, error)
        return sent

    def _record(self, delivery_id: int, error: DeliveryFailed | None) -> None:
        now = self.clock()
        with self.database.transaction() as session:
            row = session.get(NotificationDelivery, delivery_id)
            if row is None:
                return
            if isinstance(error, DeliveryDeferred):  # rate limited: later, attempts kept
                row.last_error = error.reason
                row.next_attempt_at = now + timedelta(seconds=error.wait_s)
                return
            row.attempts += 1
            if error is None:
                row.status, row.sent_at, row.last_error = "sent", now, None
                return
            row.last_error = error.reason
            if not error.retry or row.attempts >= self.max_attempts:
                row.status = "failed"
                log.warning(
                    "notification %d to %s failed: %s",
                    row.id,
                    mask_text(row.channel),
                    mask_text(error.reason),
                )
            else:
                delay = self.backoff_s * 2 ** (row.attempts - 1)
                row.next_attempt_at = now + timedelta(seconds=delay)


def _takes(channel: Channel, notification: Notification) -> bool:
    """A channel of some sites (a robot in one estate's group) takes only their notifications."""
    takes = getattr(channel, "takes", None)
    return bool(takes(notification)) if callable(takes) else True


def _notification(row: NotificationDelivery) -> Notification:
    return Notification(
        row.kind,
        row.recipient,
        row.ticket_id,
        row.message,
        row.alarm_id,
        site=row.site,
        device=row.device,
        severity=row.severity,
        facts=row.facts,
    )

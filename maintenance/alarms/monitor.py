"""The alarm side of a collector: accepted messages -> rule engine and anomaly scorers ->
alarm records -> tickets, plus the clock that fires delays and offline alarms when no message
arrives, and the reload of rule files.

The collector hands it each message as it arrives (`receive`, an arrival sink): a bounded queue
and a worker thread of its own evaluate and write, so alarm latency does not wait for the
collector's group commit, and a slow database holds up the stream (backpressure) rather than
growing memory. A message redelivered after a crash is evaluated again; alarms are deduplicated,
so that is harmless. `monitor(batch)` evaluates a batch synchronously (tests, replays). Alarm
records are committed before tickets are opened, so a slow or failed ticket step never delays or
loses an alarm (the clock's sweep opens tickets still owed)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ingest.readings import Accepted, DeviceEvent, DeviceKey, DeviceStatus, Reading
from maintenance.alarms import actions, clock, conditions, tickets
from maintenance.alarms.ledger import LedgerDevices
from maintenance.alarms.lifecycle import AlarmPolicy
from maintenance.alarms.models import Alarm
from maintenance.alarms.transitions import ACTIVE_STATES, AlarmTransition, to_ms
from maintenance.notifications.notifier import Notification, Notifier
from maintenance.storage.db import Database, utcnow
from rules.engine import ConditionChange, RuleEngine
from rules.rulefile import RuleFileError, RuleFiles

log = logging.getLogger(__name__)

AlarmListener = Callable[[Sequence[AlarmTransition]], None]
T = TypeVar("T")


class ReadingScorer(Protocol):
    """Anything else that turns readings into alarm changes (the anomaly models)."""

    def score(self, reading: Reading) -> list[ConditionChange]: ...

    def refresh(self) -> None:
        """Take up what changed since (a retrained model); called by the alarm clock."""


class AlarmMonitor:
    def __init__(
        self,
        database: Database,
        engine: RuleEngine,
        *,
        policy: AlarmPolicy | None = None,
        notifier: Notifier,
        clock: Callable[[], datetime] = utcnow,
        listeners: Sequence[AlarmListener] = (),
        scorers: Sequence[ReadingScorer] = (),
        rule_files: RuleFiles | None = None,
        ledger: LedgerDevices | None = None,
    ) -> None:
        """`ledger`: evaluate only the devices the equipment ledger knows (the service's
        processes always pass it; without, every device is evaluated: tests, replays)."""
        self.database = database
        self.ledger = ledger
        self.engine = engine
        self.policy = policy or AlarmPolicy()
        self.notifier = notifier
        self.clock = clock
        self.listeners = list(listeners)
        self.scorers = list(scorers)
        self.rule_files = rule_files
        self.rule_error: RuleFileError | None = None
        self._engine_lock = threading.Lock()
        self._write_lock = threading.Lock()  # one alarm writer per process
        # Tickets are opened under a lock of their own (an alarm changed meanwhile is retried on
        # its version), so a ticket being written never holds up the next alarm.
        self._ticket_lock = threading.Lock()
        self._owed: queue.Queue[set[int]] = queue.Queue()
        self._ticketer: threading.Thread | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._inbox: queue.Queue[Accepted] = queue.Queue(maxsize=50_000)
        self._worker: threading.Thread | None = None

    # -- start and stop ----------------------------------------------------------------------

    def restore(self, last_seen: Sequence[tuple[DeviceKey, int]] = ()) -> None:
        """After a restart: the active alarms (so they can clear) and the devices' last reports."""
        with self.database.read() as session:
            rows = session.execute(
                select(Alarm.rule_id, Alarm.site, Alarm.system, Alarm.device_id).where(
                    Alarm.state.in_(ACTIVE_STATES)
                )
            ).all()
        active = [(rule, DeviceKey(site, system, device)) for rule, site, system, device in rows]
        if self.ledger is not None:  # no offline alarm later for a device the ledger lacks
            last_seen = [(d, ms) for d, ms in last_seen if self.ledger.knows(d)]
        with self._engine_lock:
            self.engine.restore(active, last_seen)

    def start(self, interval_s: float = 1.0) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(interval_s,), name="alarm-clock", daemon=True
        )
        self._thread.start()
        self._worker = threading.Thread(target=self._work, name="alarm-worker", daemon=True)
        self._worker.start()
        self._ticketer = threading.Thread(
            target=self._ticket_work, name="alarm-tickets", daemon=True
        )
        self._ticketer.start()

    def stop(self) -> None:
        """Evaluates what was received, then stops the worker and the clock."""
        self._stop.set()
        for thread in (self._worker, self._thread, self._ticketer):
            if thread:
                thread.join(timeout=10)

    def receive(self, item: Accepted) -> None:
        """The arrival sink: never drops; blocks the caller while the worker is 50,000 behind."""
        self._inbox.put(item)

    def _work(self) -> None:
        while True:
            try:
                first = self._inbox.get(timeout=0.2)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            batch = [first]
            while len(batch) < 5_000:
                try:
                    batch.append(self._inbox.get_nowait())
                except queue.Empty:
                    break
            try:
                self(batch)
            except Exception:  # a database outage must not kill the worker
                log.exception("alarm evaluation of %d messages failed", len(batch))

    def _ticket_work(self) -> None:
        """Opens the tickets alarms are owed, after their alarms are committed and published.
        Whatever is queued at stop is opened first (and the clock's sweep catches the rest)."""
        while True:
            try:
                owed = self._owed.get(timeout=0.2)
            except queue.Empty:
                if self._stop.is_set() and not (self._worker and self._worker.is_alive()):
                    return
                continue
            while True:
                try:
                    owed |= self._owed.get_nowait()
                except queue.Empty:
                    break
            self._open_tickets(owed)

    def _tickets_owed(self, alarm_ids: set[int]) -> None:
        """A started monitor opens tickets on its own thread; otherwise (tests, the API's
        monitor for people's actions) right here."""
        if self._ticketer is not None and self._ticketer.is_alive():
            self._owed.put(set(alarm_ids))
        else:
            self._open_tickets(alarm_ids)

    def _run(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            try:
                self.tick()
            except Exception:  # the clock must keep running through a database outage
                log.exception("alarm clock tick failed")

    # -- the stream --------------------------------------------------------------------------

    def __call__(self, accepted: Sequence[Accepted]) -> None:
        changes: list[ConditionChange] = []
        received_ms = to_ms(self.clock())
        if self.ledger is not None:
            accepted = [item for item in accepted if self.ledger.knows(item.device)]
        with self._engine_lock:
            for item in accepted:
                if isinstance(item, Reading):
                    changes += self.engine.on_reading(item, received_ms)
                    for scorer in self.scorers:
                        changes += scorer.score(item)
                elif isinstance(item, DeviceEvent):
                    changes += self.engine.on_event(item)
                elif isinstance(item, DeviceStatus):
                    changes += self.engine.on_status(item)
        if changes:
            self.apply(changes)

    def apply(self, changes: list[ConditionChange]) -> list[AlarmTransition]:
        now = self.clock()
        transitions = self._write(
            lambda s: conditions.apply_changes(s, changes, policy=self.policy, now=now)
        )
        self._publish(transitions)
        for t in transitions:
            if t.action == "raise" and t.new_occurrence and t.severity == "critical":
                if not (t.suppressed or t.shelved):
                    self.notifier.notify(
                        Notification(
                            "critical_alarm",
                            f"{t.site} engineering",
                            t.ticket_id,
                            f"{t.message or t.rule_id} on {t.site}/{t.device_id}",
                            alarm_id=t.alarm_id,
                            site=t.site,
                            device=t.device_id,
                            severity=t.severity,
                            facts=self._said(t.rule_id),
                        )
                    )
        raised = {t.alarm_id for t in transitions if t.action == "raise" and t.new_occurrence}
        if raised:
            self._tickets_owed(raised)
        return transitions

    def _said(self, rule_id: str) -> dict[str, str] | None:
        """The rule's message in each language it has, for channels that speak one."""
        rule = self.engine.rule(rule_id)
        if rule is None or not rule.messages:
            return None
        return {f"message:{language}": text for language, text in rule.messages.items()}

    def _open_tickets(self, alarm_ids: set[int] | None) -> None:
        now = self.clock()
        try:
            made = self._write(
                lambda s: tickets.open_tickets(
                    s, alarm_ids, policy=self.policy, notifier=self.notifier, now=now
                ),
                lock=self._ticket_lock,
            )
        except Exception:
            log.exception("opening tickets for alarms %s failed; the clock retries", alarm_ids)
            return
        self._publish(made)

    # -- the clock ---------------------------------------------------------------------------

    def tick(self) -> list[AlarmTransition]:
        now = self.clock()
        self.reload_if_changed(now)
        with self._engine_lock:
            for scorer in self.scorers:
                scorer.refresh()
            changes = self.engine.tick(to_ms(now))
        out = self.apply(changes) if changes else []
        timed = self._write(lambda s: clock.tick(s, policy=self.policy, now=now))
        self._publish(timed)
        self._open_tickets(None)
        return out + timed

    def reload_if_changed(self, now: datetime) -> bool:
        if self.rule_files is None or not self.rule_files.changed():
            return False
        try:
            rules = self.rule_files.load()
        except RuleFileError as error:
            self.rule_files.skip_current()
            self.rule_error = error
            log.error("rule files not reloaded, the active rules stay: %s", error)
            return False
        self.rule_error = None
        with self._engine_lock:
            cleared = self.engine.replace_rules(rules, to_ms(now))
        log.info("rules reloaded: %d rules", len(rules))
        if cleared:
            self.apply(cleared)
        return True

    # -- people ------------------------------------------------------------------------------

    def acknowledge(self, alarm_id: int, *, by: str, note: str = "") -> AlarmTransition:
        now = self.clock()
        done = self._write(lambda s: actions.acknowledge(s, alarm_id, by=by, now=now, note=note))
        self._publish([done])
        return done

    def reset(self, alarm_id: int, *, by: str, reason: str) -> AlarmTransition:
        now = self.clock()
        done = self._write(lambda s: actions.reset(s, alarm_id, by=by, reason=reason, now=now))
        self._publish([done])
        return done

    def shelve(self, alarm_id: int, *, by: str, reason: str, minutes: float) -> AlarmTransition:
        now = self.clock()
        done = self._write(
            lambda s: actions.shelve(
                s, alarm_id, by=by, reason=reason, minutes=minutes, now=now, policy=self.policy
            )
        )
        self._publish([done])
        return done

    def unshelve(self, alarm_id: int, *, by: str) -> AlarmTransition:
        now = self.clock()
        done = self._write(lambda s: actions.unshelve(s, alarm_id, by=by, now=now))
        self._publish([done])
        self._tickets_owed({alarm_id})
        return done

    def open_ticket(self, alarm_id: int, *, by: str) -> int:
        now = self.clock()
        ticket_id, done = self._write(
            lambda s: tickets.open_by_hand(s, alarm_id, by=by, now=now, notifier=self.notifier),
            lock=self._ticket_lock,
        )
        if done is not None:
            self._publish([done])
        return ticket_id

    # -- plumbing ----------------------------------------------------------------------------

    def _write(self, work: Callable[[Session], T], lock: threading.Lock | None = None) -> T:
        """One transaction; retried when another thread or process changed the same alarm."""
        for attempt in range(3):
            try:
                with lock or self._write_lock, self.database.transaction() as session:
                    return work(session)
            except StaleDataError:
                if attempt == 2:
                    raise
                log.info("alarm changed concurrently; retrying")
        raise AssertionError("unreachable")

    def _publish(self, transitions: Sequence[AlarmTransition]) -> None:
        if not transitions:
            return
        for listener in self.listeners:
            try:
                listener(transitions)
            except Exception:  # a listener's failure never blocks alarm processing
                log.exception("alarm listener %r failed", listener)

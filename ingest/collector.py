"""The collector: validated messages -> write-ahead spool -> acknowledgement -> telemetry store.

Three threads meet here:
- the MQTT network thread calls `handle()` for every message: parse, and add to the open group;
- the committer turns a group into one durable spool batch (plus its dead letters), and only then
  acknowledges the group's messages to the broker, in the order they arrived;
- the writer drains the spool into the telemetry store in large batches, retrying while the store
  is down and dead-lettering the points the store refuses for good.
Memory stays bounded: unacknowledged messages are capped by the MQTT receive maximum, the spool
cache by its point budget, and the spool's disk use by `spool_max_bytes` (past it, the committer
stops acknowledging and the broker holds the backlog).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import Histogram

from ingest.deadletters import DeadLetterStore
from ingest.devices import DeviceRegistry
from ingest.payloads import PayloadLimits, dead_letter, parse_message
from ingest.points import event_point, reading_point
from ingest.readings import Accepted, DeadLetter, DeviceEvent, DeviceStatus, Reading
from ingest.spool import Spool
from ingest.store.base import Point, StoreUnavailable, TelemetryStore
from ingest.store.lineprotocol import encode_point
from ingest.topics import is_alarm_output, not_an_alarm_state

log = logging.getLogger(__name__)

AckFunction = Callable[[Sequence[int]], None]
AcceptedSink = Callable[[Sequence[Accepted]], None]
# Called on the MQTT thread for every accepted message as it arrives, before it is on disk: for
# consumers whose latency matters (the alarm monitor) and that tolerate seeing a message again
# after a crash (it is redelivered). It must not block for long: it holds up the stream.
ArrivalSink = Callable[[Accepted], None]
# Raw message -> what it yields (a gateway message yields many readings, statuses and dead
# letters; an RPC request, nothing). Must not raise for bad input: that is a dead letter.
Parser = Callable[[bytes, bytes, int], Sequence[Accepted | DeadLetter]]
# A held dead letter (an unmapped device's message) -> what it yields now, or None while held.
Replayer = Callable[[DeadLetter, int], Sequence[Accepted | DeadLetter] | None]


@dataclass(slots=True, frozen=True)
class CollectorConfig:
    limits: PayloadLimits = PayloadLimits()
    commit_points: int = 2_000  # a group is committed when it holds this many messages ...
    commit_interval_s: float = 0.02  # ... or is this old
    write_points: int = 10_000  # points per store write
    spool_fsync: bool = True
    spool_max_bytes: int = 1024**3
    retry_max_s: float = 5.0
    shutdown_flush_s: float = 10.0


@dataclass
class CollectorStats:
    received: int = 0
    accepted: int = 0
    spooled: int = 0
    written: int = 0
    dead_lettered: int = 0
    alarm_topic_messages: int = 0  # on facility/<site>/alarms/#: the service's own, or not
    alarm_topic_refused: int = 0  # of those, dead-lettered: not an alarm state of the service
    replayed: int = 0  # held dead letters brought in once their device was mapped
    store_up: bool = True
    store_error: str = ""
    write_latency: Histogram = field(
        default_factory=lambda: Histogram(
            "facility_store_write_seconds",
            "Time of one batch write to the telemetry store",
            registry=None,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
    )


@dataclass(slots=True)
class _Group:
    mids: list[int] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    accepted: list[Accepted] = field(default_factory=list)
    opened: float = 0.0


class Collector:
    def __init__(
        self,
        store: TelemetryStore,
        state_dir: Path,
        config: CollectorConfig | None = None,
        *,
        sinks: Sequence[AcceptedSink] = (),
        arrival_sinks: Sequence[ArrivalSink] = (),
        clock: Callable[[], float] = time.time,
        parser: Parser | None = None,
        replayer: Replayer | None = None,
    ) -> None:
        self.store = store
        self.config = config or CollectorConfig()
        config = self.config
        self.stats = CollectorStats()
        self.spool = Spool(state_dir / "spool", fsync=config.spool_fsync)
        self.dead_letters = DeadLetterStore(state_dir / "deadletters.sqlite")
        self.devices = DeviceRegistry(state_dir / "devices.sqlite")
        self._sinks = list(sinks)
        self._arrival_sinks = list(arrival_sinks)
        self._clock = clock
        limits = self.config.limits
        self._parse: Parser = parser or (
            lambda topic, payload, now_ms: [parse_message(topic, payload, now_ms, limits)]
        )
        self._replayer = replayer
        self._ack: AckFunction = lambda mids: None
        self._group = _Group()
        self._group_lock = threading.Condition()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- the MQTT thread -------------------------------------------------------------------

    def handle(self, topic: bytes, payload: bytes, mid: int) -> None:
        """Never raises: a message that cannot be parsed becomes a dead letter."""
        if is_alarm_output(topic):
            # The service's own alarm publications (facility/<site>/alarms/<id>) share the tree
            # the collector subscribes to: counted and acknowledged in order, never data. One
            # that is not an alarm state as the service publishes it (too large, not its JSON,
            # another id or site than its topic: written by someone else) is dead-lettered; its
            # payload is not kept beyond the dead letter's first bytes.
            problem = not_an_alarm_state(topic, payload, self.config.limits.max_bytes)
            with self._group_lock:
                if not self._stopping.is_set():
                    self._group.mids.append(mid)
                    self.stats.alarm_topic_messages += 1
                    if problem is not None:
                        now_ms = int(self._clock() * 1000)
                        name = topic.decode("utf-8", "replace")
                        self._group.dead.append(dead_letter(name, payload, problem, now_ms))
                        self.stats.alarm_topic_refused += 1
            return
        now_ms = int(self._clock() * 1000)
        try:
            items = self._parse(topic, payload, now_ms)
        except Exception as error:  # a parser bug must not lose the message nor kill the thread
            log.exception("parser failed on %r", topic)
            items = [
                dead_letter(
                    topic.decode("utf-8", "replace"), payload, f"internal: {error!r}", now_ms
                )
            ]
        with self._group_lock:
            if self._stopping.is_set():
                return  # left unacknowledged: the broker redelivers it to the next session
            group = self._group
            if not group.mids:
                group.opened = time.monotonic()
            group.mids.append(mid)
            self.stats.received += 1
            for item in items:
                self._add(group, item, now_ms)
            if len(group.mids) >= self.config.commit_points:
                self._group_lock.notify()
        if self._arrival_sinks:
            for item in items:
                if not isinstance(item, DeadLetter):
                    for arrival in self._arrival_sinks:
                        try:
                            arrival(item)
                        except Exception:
                            log.exception("arrival sink %r failed", arrival)

    def _add(self, group: _Group, item: Accepted | DeadLetter, now_ms: int) -> None:
        """Called under the group lock."""
        if isinstance(item, Reading):
            group.points.append(reading_point(item))
            group.accepted.append(item)
            self.devices.seen(item.device, now_ms)
        elif isinstance(item, DeviceEvent):
            group.points.append(event_point(item))
            group.accepted.append(item)
            self.devices.seen(item.device, now_ms)
        elif isinstance(item, DeviceStatus):
            group.accepted.append(item)
            self.devices.seen(item.device, now_ms, online=item.online)
        elif isinstance(item, DeadLetter):
            group.dead.append(item)
        else:  # a device's text: its attributes
            group.accepted.append(item)
            self.devices.seen(item.device, now_ms)
            self.devices.report(item.device, item.values, item.ts_ms)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, ack: AckFunction) -> None:
        self._ack = ack
        for name, target in (("committer", self._commit_loop), ("writer", self._write_loop)):
            thread = threading.Thread(target=target, name=f"collector-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Commit and acknowledge what is held, then give the writer a bounded time to drain the
        spool; whatever is left stays in the spool for the next start."""
        self._stopping.set()
        with self._group_lock:
            self._group_lock.notify_all()
        for thread in self._threads:
            thread.join()
        self._threads.clear()
        self.devices.close()
        self.spool.close()
        self.dead_letters.close()

    # -- the committer ---------------------------------------------------------------------

    def _commit_loop(self) -> None:
        last_registry_flush = time.monotonic()
        while True:
            with self._group_lock:
                while not self._stopping.is_set():
                    wait = self._time_to_commit()
                    # An idle stream still flushes the registry and takes up replay requests.
                    if wait <= 0 or time.monotonic() - last_registry_flush > 1.0:
                        break
                    self._group_lock.wait(wait)
                group, self._group = self._group, _Group()
            if group.mids:
                self._commit(group)
            if time.monotonic() - last_registry_flush > 1.0 or self._stopping.is_set():
                self._replay_requested()
                self.devices.flush()
                last_registry_flush = time.monotonic()
            if self._stopping.is_set() and not group.mids:
                return

    def _time_to_commit(self) -> float:
        """Seconds until the open group is due (0 when due now); called under the group lock."""
        group = self._group
        if not group.mids:
            return self.config.commit_interval_s
        if len(group.mids) >= self.config.commit_points:
            return 0.0
        return group.opened + self.config.commit_interval_s - time.monotonic()

    def _commit(self, group: _Group) -> None:
        while (
            self.spool.backlog_bytes > self.config.spool_max_bytes and not self._stopping.is_set()
        ):
            # The store has been away long enough to fill the spool: hold the acknowledgements,
            # so the broker keeps the rest of the backlog.
            time.sleep(0.5)
        try:
            if group.points:
                self.spool.append(group.points)
            self.dead_letters.append(group.dead)
        except OSError:
            # Not acknowledged, so the broker redelivers these messages after a reconnect.
            log.exception("spool write failed; %d messages left unacknowledged", len(group.mids))
            return
        self.stats.accepted += len(group.accepted)
        self.stats.spooled += len(group.points)
        self.stats.dead_lettered += len(group.dead)
        self._ack(group.mids)
        for sink in self._sinks:
            try:
                sink(group.accepted)
            except Exception:
                log.exception("sink %r failed", sink)

    def _replay_requested(self) -> None:
        """Held dead letters an operator asked to replay (`facility deadletters replay`): those
        whose device is mapped now are spooled, then marked replayed, so each lands once (a
        crash between the two writes the same points again, which the store keeps once: same
        series, same time). The others stay held."""
        if self._replayer is None:
            return
        pending = self.dead_letters.replay_requests()
        if not pending:
            return
        now_ms = int(self._clock() * 1000)
        group, done, held = _Group(), [], []
        with self._group_lock:  # the device registry is updated under this lock elsewhere too
            for stored in pending:
                items = self._replayer(stored.letter, now_ms)
                if items is None:
                    held.append(stored.id)
                    continue
                done.append(stored.id)
                for item in items:
                    self._add(group, item, now_ms)
        try:
            if group.points:
                self.spool.append(group.points)
            self.dead_letters.append(group.dead)
            self.dead_letters.replayed(done, now_ms)
            self.dead_letters.still_held(held)
        except OSError:
            log.exception("replay: spool write failed; %d letters stay held", len(done))
            return
        self.stats.accepted += len(group.accepted)
        self.stats.spooled += len(group.points)
        self.stats.dead_lettered += len(group.dead)
        self.stats.replayed += len(done)
        log.info(
            "replayed %d held messages; %d stay held (device still unmapped)", len(done), len(held)
        )
        for sink in self._sinks:
            try:
                sink(group.accepted)
            except Exception:
                log.exception("sink %r failed", sink)

    # -- the writer ------------------------------------------------------------------------

    def _write_loop(self) -> None:
        backoff = 0.1
        deadline: float | None = None
        while True:
            if self._stopping.is_set():
                committer_done = all(
                    not t.is_alive() for t in self._threads if t.name.endswith("committer")
                )
                if committer_done:
                    deadline = deadline or time.monotonic() + self.config.shutdown_flush_s
                    if self.spool.backlog_points == 0 or time.monotonic() > deadline:
                        if self.spool.backlog_points:
                            log.warning(
                                "stopping with %d points left in the spool",
                                self.spool.backlog_points,
                            )
                        return
            if not self.spool.wait_for_batches(0.2):
                continue
            seq, points = self.spool.next_batches(self.config.write_points)
            started = time.perf_counter()
            try:
                rejected = self.store.write(points)
            except StoreUnavailable as error:
                if self.stats.store_up:
                    log.warning("telemetry store unavailable, spooling: %s", error)
                self.stats.store_up, self.stats.store_error = False, str(error)
                if deadline is not None and time.monotonic() > deadline:
                    continue
                time.sleep(backoff)
                backoff = min(backoff * 2, self.config.retry_max_s)
                continue
            self.stats.write_latency.observe(time.perf_counter() - started)
            if not self.stats.store_up:
                log.info(
                    "telemetry store back; draining %d spooled points", self.spool.backlog_points
                )
            self.stats.store_up, self.stats.store_error, backoff = True, "", 0.1
            if rejected:
                now_ms = int(self._clock() * 1000)
                self.dead_letters.append(
                    [
                        dead_letter(_describe(r.point), _line(r.point), r.reason, now_ms)
                        for r in rejected
                    ]
                )
                self.stats.dead_lettered += len(rejected)
            self.spool.mark_written(seq, len(points))
            self.stats.written += len(points) - len(rejected)


def _describe(point: Point) -> str:
    tags = dict(point.tags)
    return f"store:{point.measurement}/{tags.get('site', '')}/{tags.get('device_id', '')}"


def _line(point: Point) -> bytes:
    try:
        return encode_point(point).encode()
    except ValueError:
        return repr(point).encode()

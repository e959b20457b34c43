"""Detection benchmark: every simulator fault scenario through the real pipeline (mosquitto ->
collector -> rules and anomaly models -> alarms), scored against the scenarios' ground truth.

    python -m bench.detection [--devices 10] [--rate 0.2] [--duration 6000] [--clean-days 2]

1. Anomaly models are trained on fault-free history of the same devices (earlier days).
2. Each scenario runs on a site of its own; a fault window counts as detected when an alarm is
   raised on the faulty device inside the window; the delay is from the window's start.
3. Fault-free runs of `--clean-days` simulated days give the false alarms per device per day.
   Alarms on other devices during scenario runs are reported as false alarms too.

Time is simulated: the fleet publishes as fast as the pipeline takes it, and the service's clock
(offline silence, the alarm clock) follows the telemetry, so a simulated day takes seconds.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import orjson
from sqlalchemy import select

from ingest.client import BrokerAddress, SubscriptionConfig
from ingest.collector import CollectorConfig
from ingest.payloads import PayloadLimits, parse_message
from ingest.points import reading_point
from ingest.readings import Accepted, DeviceEvent, Reading
from ingest.service import IngestService
from ingest.store.sqlite import SqliteTelemetryStore
from maintenance.alarms.models import Alarm, AlarmTransitionRecord
from maintenance.alarms.monitor import AlarmMonitor
from maintenance.flows import unit_of_work
from maintenance.notifications.notifier import CollectingNotifier
from maintenance.storage.db import Database, make_engine, migrate
from rules.engine import RuleEngine
from rules.registry import ModelRegistry
from rules.rulefile import shipped_rules
from rules.scoring import AnomalyScorer
from rules.training import TrainingPlan, train
from simulators.fleet import Fleet, Message
from simulators.publisher import FleetPublisher
from simulators.scenarios import SCENARIOS
from tests.servers import Mosquitto

DAY_S = 86_400
WIDE = PayloadLimits(max_past_ms=10**13, max_future_ms=10**13)


class StreamClock:
    """The service's clock in a replay: the newest telemetry time seen so far."""

    def __init__(self, start_ms: int) -> None:
        self.ms = start_ms
        self._lock = threading.Lock()

    def observe(self, payload: bytes) -> None:
        """Advance on each message as it arrives (before the collector stamps a status)."""
        try:
            ts = orjson.loads(payload).get("ts")
        except (orjson.JSONDecodeError, AttributeError):
            return
        if isinstance(ts, int):
            self.advance(ts)

    def advance(self, ms: int) -> None:
        with self._lock:
            self.ms = max(self.ms, ms)

    def seconds(self) -> float:
        return self.ms / 1000

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.ms / 1000, UTC)


def train_models(
    root: Path, seed: int, devices: int, rate: float, start_ms: int, days: int
) -> ModelRegistry:
    store = SqliteTelemetryStore(root / "history.sqlite")
    history = Fleet("history", devices, rate, days * DAY_S, seed=seed, start_ms=start_ms)
    batch = []
    for message in history.messages():
        item = parse_message(message.topic.encode(), message.payload, start_ms, WIDE)
        if isinstance(item, Reading):
            batch.append(reading_point(item))
        if len(batch) >= 20_000:
            store.write(batch)
            batch.clear()
    store.write(batch)
    registry = ModelRegistry(root / "models")
    plan = TrainingPlan(start_ms, start_ms + days * DAY_S * 1000)
    listed = [("history", m.system, m.device_id) for m in history.models]
    for result in train(store, registry, listed, plan, now_ms=plan.end_ms):
        print(f"  model {result.key:24} {result.reason}")
    store.close()
    return registry


def run_fleet(
    broker: Mosquitto, work: Path, fleet: Fleet, registry: ModelRegistry, name: str
) -> Database:
    """One fleet through a fresh collector and alarm monitor; answers the alarm database."""
    # Two replay clocks: `arrival` follows the messages as the collector gets them (it stamps
    # statuses, such as a last will); `evaluated` follows what the rules have evaluated (the
    # alarm clock measures silence on it). Live, both are the wall clock.
    arrival, evaluated = StreamClock(fleet.start_ms), StreamClock(fleet.start_ms)
    engine = make_engine(f"sqlite:///{work / f'{name}.sqlite'}")
    migrate(engine)
    database = unit_of_work.database(engine)

    class ReplayMonitor(AlarmMonitor):
        def __call__(self, accepted: Sequence[Accepted]) -> None:
            stamps = (a.ts_ms for a in accepted if isinstance(a, Reading | DeviceEvent))
            evaluated.advance(max(stamps, default=0))
            super().__call__(accepted)

    monitor = ReplayMonitor(
        database,
        RuleEngine(shipped_rules()),
        notifier=CollectingNotifier(),
        clock=evaluated.now,
        scorers=[AnomalyScorer(registry)],
    )
    service = IngestService(
        BrokerAddress.from_url(broker.url),
        SubscriptionConfig(client_id=f"detect-{name}", topics=(f"facility/{fleet.site}/#",)),
        SqliteTelemetryStore(work / f"{name}-telemetry.sqlite"),
        work / f"{name}-state",
        CollectorConfig(limits=WIDE, spool_fsync=False),
        arrival_sinks=[monitor.receive],  # as the service runs it
        clock=arrival.seconds,
    )
    handle = service.collector.handle

    def observed(topic: bytes, payload: bytes, mid: int) -> None:
        arrival.observe(payload)
        handle(topic, payload, mid)

    service.subscriber._on_message = observed  # the arrival clock sees every message first
    service.start()
    while not service.subscriber.connected.is_set():
        time.sleep(0.05)
    monitor.start(0.05)
    publisher = FleetPublisher(broker.url, fleet, client_id=f"fleet-{name}")
    publisher.publish_all(fleet.statuses(online=True), realtime=False)
    published = publisher.publish_all(paced_wills(fleet), realtime=False)  # a running total
    publisher.close()
    deadline = time.monotonic() + 300
    while service.collector.stats.accepted < published and time.monotonic() < deadline:
        time.sleep(0.1)
    while not monitor._inbox.empty() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    evaluated.advance(fleet.start_ms + int(fleet.duration_s * 1000))
    monitor.tick()
    monitor.stop()
    service.stop()
    return database


def paced_wills(fleet: Fleet) -> Iterator[Message]:
    """The fleet's messages, with a pause on each side of a last will. Live, a device's will
    follows its last message on the same connection; in the replay the will goes out on another
    connection, so at full speed it could overtake the device's last readings (which would clear
    it) or be overtaken by the minutes of simulated time published after it."""
    for message in fleet.messages():
        if message.will:
            time.sleep(0.5)
        yield message
        if message.will:
            time.sleep(0.5)


def raises(database: Database) -> list[tuple[str, str, int]]:
    """(device, rule, raised at ms) of every new alarm occurrence."""
    with database.read() as s:
        rows = s.execute(
            select(Alarm.device_id, Alarm.rule_id, AlarmTransitionRecord.at)
            .join(Alarm, Alarm.id == AlarmTransitionRecord.alarm_id)
            .where(AlarmTransitionRecord.new_occurrence.is_(True))
        ).all()
    return [(device, rule, int(at.timestamp() * 1000)) for device, rule, at in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=10)
    parser.add_argument("--rate", type=float, default=0.2, help="messages per second per device")
    parser.add_argument("--duration", type=float, default=6000, help="seconds per scenario run")
    parser.add_argument("--clean-days", type=int, default=2)
    parser.add_argument("--training-days", type=int, default=3)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-detection-"))
    broker = Mosquitto(work / "mosquitto")
    broker.start()
    origin = 1_790_000_000_000 - 1_790_000_000_000 % (DAY_S * 1000)
    try:
        print(f"training on {args.training_days} fault-free days ...", flush=True)
        registry = train_models(
            work, args.seed, args.devices, args.rate, origin, args.training_days
        )
        test_start = origin + args.training_days * DAY_S * 1000
        header = f"{'scenario':34} {'detected':>8} {'delay s':>8} {'by':40} {'false':>5}"
        print(header)
        print("-" * len(header))
        detected = windows = false_in_runs = 0
        delays: list[float] = []
        for index, name in enumerate(sorted(SCENARIOS)):
            fleet = Fleet(
                f"s{index}",
                args.devices,
                args.rate,
                args.duration,
                seed=args.seed,
                scenario=name,
                start_ms=test_start + index * int(args.duration * 1000),
            )
            (truth,) = fleet.truth()
            found = raises(run_fleet(broker, work, fleet, registry, f"s{index}"))
            hits = sorted(
                (at, rule)
                for device, rule, at in found
                if device == truth.device_id and truth.start_ms <= at <= truth.end_ms
            )
            others = [
                f
                for f in found
                if f[0] != truth.device_id or not truth.start_ms <= f[2] <= truth.end_ms
            ]
            windows += 1
            false_in_runs += len(others)
            if hits:
                detected += 1
                delay = (hits[0][0] - truth.start_ms) / 1000
                delays.append(delay)
                rules = ",".join(sorted({rule for _, rule in hits}))
                print(
                    f"{name:34} {'yes':>8} {delay:8.0f} {rules[:40]:40} {len(others):5}", flush=True
                )
            else:
                print(f"{name:34} {'NO':>8} {'-':>8} {'':40} {len(others):5}", flush=True)
        clean = Fleet(
            "clean",
            args.devices,
            args.rate,
            args.clean_days * DAY_S,
            seed=args.seed,
            start_ms=test_start + len(SCENARIOS) * int(args.duration * 1000),
        )
        started = time.monotonic()
        clean_raises = raises(run_fleet(broker, work, clean, registry, "clean"))
        elapsed = time.monotonic() - started
        per_day = len(clean_raises) / (args.devices * args.clean_days)
        delays.sort()
        print()
        print(
            f"fault windows detected: {detected}/{windows} = {detected / windows:.1%} "
            "(target >= 95 %)"
        )
        if delays:
            print(
                f"detection delay: median {delays[len(delays) // 2]:.0f} s, "
                f"max {delays[-1]:.0f} s (rule delays included)"
            )
        print(
            f"false alarms on fault-free runs: {len(clean_raises)} over {args.devices} devices x "
            f"{args.clean_days} days = {per_day:.2f} per device per day (target <= 1)"
        )
        for device, rule, at in clean_raises[:10]:
            when = datetime.fromtimestamp(at / 1000, UTC)
            print(f"  false: {device} {rule} at {when:%Y-%m-%d %H:%M:%S}")
        print(
            "alarms outside the fault (other devices, outside windows) in scenario runs: "
            f"{false_in_runs}"
        )
        print(
            f"(the {args.clean_days}-day fault-free replay took {elapsed:.1f} s through the "
            "pipeline)"
        )
    finally:
        broker.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

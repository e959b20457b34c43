"""Alarm latency benchmark: at a steady background load, the time from publishing a message that
crosses a threshold to the alarm being persisted, and to its ticket being created; next to the
raw broker round trip (publish -> a plain paho subscriber) measured in the same run.

    python -m bench.alarm_latency [--load 5000] [--probes 200]

Private mosquitto, InfluxDB and PostgreSQL; the collector and alarm monitor run in this process
as `facility run` wires them; the background load is `facility simulate` in another process.
Each probe is a new device on the bench site, so every probe raises a new alarm and opens a new
ticket (critical -> emergency, dispatched).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ingest.client import BrokerAddress, SubscriptionConfig
from ingest.process import freeze_startup_objects
from ingest.service import IngestService
from ingest.store.influx import InfluxStore
from maintenance.alarms.monitor import AlarmMonitor
from maintenance.alarms.transitions import AlarmTransition
from maintenance.assets.schemas import AssetCreate, SiteCreate
from maintenance.assets.service import create_site, save_asset
from maintenance.dispatch.roster import TechnicianCreate, create_technician
from maintenance.flows import unit_of_work
from maintenance.notifications.notifier import CollectingNotifier
from maintenance.storage.db import Database, make_engine, migrate
from rules.engine import RuleEngine
from rules.rulefile import parse_rules, shipped_rules
from tests.servers import Influx, Mosquitto, Postgres

PROBE_RULE = """
rules:
  - id: bench-probe
    kind: threshold
    site: bench
    system: power
    metric: probe
    above: 100
    severity: critical
    message: Probe crossed its threshold
"""


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def seed_probe_site(database: Database, probes: int) -> None:
    """The bench site in the ledger: a meter asset per probe device and a technician, so each
    probe's alarm opens a ticket that is dispatched."""
    with database.transaction() as s:
        site = create_site(s, SiteCreate(code="bench", name="Bench estate", supervisor="sup"))
        for n in range(probes):
            save_asset(
                s,
                AssetCreate(
                    site_id=site.id,
                    code=f"PROBE-{n:05d}",
                    system="power",
                    type="meter",
                    device_ids=[f"probe-{n:05d}"],
                ),
            )
        create_technician(
            s, TechnicianCreate(name="Bench tech", skills=["power"], site_ids=[site.id])
        )


def client(url: str, name: str) -> mqtt.Client:
    address = BrokerAddress.from_url(url)
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name)
    c.connect(address.host, address.port)
    c.loop_start()
    return c


def raw_reference(url: str) -> tuple[dict[str, float], mqtt.Client]:
    """A plain subscriber's receive time of each probe device's message: the reference."""
    received: dict[str, float] = {}
    watcher = client(url, "bench-reference")
    watcher.on_message = lambda c, u, m: received.setdefault(
        m.topic.split("/")[3], time.perf_counter()
    )
    watcher.subscribe("facility/bench/power/+/telemetry", qos=1)
    return received, watcher


def start_load(url: str, rate: int, duration_s: float) -> subprocess.Popen[bytes]:
    """`facility simulate` in its own process: `rate` messages a second (devices at 5 Hz) on
    site `load`."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "api.cli",
            "simulate",
            "--site",
            "load",
            "--devices",
            str(max(1, rate // 5)),
            "--rate",
            "5",
            "--duration",
            f"{duration_s:.0f}s",
        ],
        env={**os.environ, "FACILITY_MQTT_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def publish_probes(url: str, probes: int, interval_s: float) -> dict[str, float]:
    """One reading over the probe rule's threshold per probe device; when each was sent."""
    probe = client(url, "bench-probe")
    sent: dict[str, float] = {}
    for n in range(probes):
        device = f"probe-{n:05d}"
        body = orjson.dumps({"ts": int(time.time() * 1000), "metrics": {"probe": 150.0}})
        sent[device] = time.perf_counter()
        probe.publish(f"facility/bench/power/{device}/telemetry", body, qos=1)
        time.sleep(interval_s)
    probe.loop_stop()
    return sent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--load", type=int, default=5000, help="background messages per second")
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--probe-interval", type=float, default=0.15, help="seconds")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-alarm-latency-"))
    broker, influx, postgres = Mosquitto(work / "mosquitto"), Influx(work / "influx"), Postgres()
    broker.start()
    influx.start()
    postgres.start()
    load: subprocess.Popen[bytes] | None = None
    try:
        engine = make_engine(postgres.create_database("alarm_latency"))
        migrate(engine)
        database = unit_of_work.database(engine)
        seed_probe_site(database, args.probes)
        persisted: dict[str, float] = {}
        ticketed: dict[str, float] = {}

        def listener(transitions: Sequence[AlarmTransition]) -> None:
            now = time.perf_counter()
            for t in transitions:
                if t.action == "raise" and t.rule_id == "bench-probe":
                    persisted.setdefault(t.device_id, now)
                elif t.action == "ticket" and t.rule_id == "bench-probe":
                    ticketed.setdefault(t.device_id, now)

        monitor = AlarmMonitor(
            database,
            RuleEngine([*shipped_rules(), *parse_rules(PROBE_RULE)]),
            notifier=CollectingNotifier(),
            listeners=[listener],
        )
        service = IngestService(
            BrokerAddress.from_url(broker.url),
            SubscriptionConfig(client_id="bench-collector"),
            InfluxStore(influx.url, "bench"),
            work / "state",
            arrival_sinks=[monitor.receive],
        )
        service.start()
        monitor.start(1.0)
        freeze_startup_objects()  # as `facility run` and `facility collect` do once started
        while not service.subscriber.connected.is_set():
            time.sleep(0.05)

        received, watcher = raw_reference(broker.url)
        load = start_load(broker.url, args.load, args.probes * args.probe_interval + 15)
        time.sleep(5)  # the load reaches its steady rate
        received_before = service.collector.stats.received
        load_started = time.perf_counter()
        sent = publish_probes(broker.url, args.probes, args.probe_interval)
        deadline = time.monotonic() + 20
        while len(ticketed) < args.probes and time.monotonic() < deadline:
            time.sleep(0.1)
        rate = (service.collector.stats.received - received_before) / (
            time.perf_counter() - load_started
        )
        alarm = [(persisted[d] - t) * 1000 for d, t in sent.items() if d in persisted]
        ticket = [(ticketed[d] - t) * 1000 for d, t in sent.items() if d in ticketed]
        raw = [(received[d] - t) * 1000 for d, t in sent.items() if d in received]
        print(f"background load measured at the collector: {rate:,.0f} msg/s (asked {args.load:,})")
        print(
            f"probes: {args.probes}; alarms persisted {len(alarm)}, tickets {len(ticket)}, "
            f"seen by the raw subscriber {len(raw)}"
        )
        for name, values, target in (
            ("raw broker round trip", raw, None),
            ("alarm persisted", alarm, 50.0),
            ("ticket created", ticket, 200.0),
        ):
            if not values:
                print(f"{name:24} no samples")
                continue
            p50, p99 = statistics.median(values), percentile(values, 0.99)
            ratio = f"  p99 = {p99 / percentile(raw, 0.99):.1f}x raw" if raw and target else ""
            goal = f"  (target p99 < {target:.0f} ms)" if target else ""
            print(f"{name:24} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms{ratio}{goal}")
        watcher.loop_stop()
        monitor.stop()
        service.stop()
    finally:
        if load is not None:
            load.kill()
        broker.kill()
        influx.kill()
        postgres.kill()
        postgres.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

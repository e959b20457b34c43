"""Ingest benchmark: one collector draining a queued QoS 1 backlog into a real InfluxDB,
measured against raw `mosquitto_sub` draining the same backlog in the same run.

    python -m bench.ingest [--devices 1000] [--steps 100] [--formats all|none|NAME,...]

Both subscribers hold persistent sessions on a private mosquitto (deploy/mosquitto.conf), the fleet
is published once (so the broker queues it for both), then each drains its queue in turn.
Then a row per payload format (bench/format_rows.py): the same fleet's telemetry as each gateway
sends it, drained by an in-process collector with that source (msg/s and points/s).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.format_rows import FORMATS, run_format
from bench.node_red_reference import NodeRed
from ingest.store.influx import InfluxStore
from simulators.fleet import Fleet
from simulators.publisher import FleetPublisher
from tests.servers import Influx, Mosquitto, binary

SYSTEMS = ("elevator", "water", "power", "fire", "camera")


def count(store: InfluxStore) -> int:
    total = 0
    for system in SYSTEMS:
        series = store.query(f"SELECT COUNT(seq) FROM \"{system}\" WHERE site = 'bench'")
        total += int(series[0]["values"][0][1]) if series else 0
    return total


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_subscribed(port: int, registry: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        subprocess.run(
            [binary("mosquitto_pub"), "-p", str(port), "-q", "1", "-t",
             "facility/probe/water/probe-1/status", "-m", "online"],
            check=True,
        )  # fmt: skip
        time.sleep(1.5)  # the registry is flushed every second
        if registry.exists():
            with sqlite3.connect(registry) as db:
                if db.execute("SELECT COUNT(*) FROM devices WHERE site = 'probe'").fetchone()[0]:
                    return
    raise RuntimeError("the collector did not subscribe")


def drain_node_red(
    node_red: NodeRed | None, store: InfluxStore, total: int
) -> tuple[float, int, float] | None:
    """Node-RED drains its queued session into InfluxDB: (seconds, points landed, peak MB)."""
    if node_red is None:
        return None
    started = time.perf_counter()
    pid = node_red.start()
    peak, landed = 0.0, 0
    while time.perf_counter() < started + 900:
        peak = max(peak, peak_rss_mb(pid))
        landed = count(store)
        if landed >= total:
            break
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    node_red.stop()
    return seconds, landed, peak


def format_table(
    which: str, fleet: Fleet, broker_url: str, influx_url: str, work: Path, ref_rate: float
) -> int:
    """The per-format rows; returns the points lost over all formats."""
    formats = FORMATS if which == "all" else tuple(which.split(","))
    native = list(fleet.messages())
    print()
    print("per format (in-process collector, same fleet; one point = one device reading)")
    print(f"{'format':22} {'messages':>9} {'msg/s':>9} {'points/s':>10} {'vs native':>9}  dead")
    lost, base = 0, None
    for fmt in formats:
        row = run_format(fmt, fleet, native, broker_url, influx_url, work)
        points_rate = row.points / row.seconds
        base = base or points_rate
        print(
            f"{fmt:22} {row.messages:9d} {row.messages / row.seconds:9.0f} {points_rate:10.0f} "
            f"{points_rate / base:9.0%}  {row.dead_letters}",
            flush=True,
        )
        lost += max(0, len([m for m in native if m.topic.endswith("/telemetry")]) - row.points)
    print(f"{'mosquitto_sub (raw)':22} {'':9} {ref_rate:9.0f}")
    return lost


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=100, help="messages per device")
    parser.add_argument("--protocol", choices=["5", "3.1.1"], default="5")
    parser.add_argument("--formats", default="all", help="all, none, or a comma-separated list")
    parser.add_argument("--no-node-red", action="store_true", help="skip the Node-RED row")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    broker, influx = Mosquitto(work / "mosquitto"), Influx(work / "influx")
    broker.start()
    influx.start()
    sub = binary("mosquitto_sub")
    ref_args = [
        sub,
        "-h",
        "127.0.0.1",
        "-p",
        str(broker.port),
        "-q",
        "1",
        "-c",
        "-i",
        "bench-reference",
        "-V",
        "mqttv5",
        "-x",
        "3600",
        "-t",
        "facility/#",
    ]
    env = {
        **os.environ,
        "FACILITY_MQTT_URL": broker.url,
        "FACILITY_INFLUX_URL": influx.url,
        "FACILITY_INFLUX_DB": "bench",
        "FACILITY_STATE_DIR": str(work / "state"),
        "FACILITY_MQTT_CLIENT_ID": "bench-collector",
        "FACILITY_LOG_LEVEL": "WARNING",
        "FACILITY_MQTT_PROTOCOL": args.protocol,
    }
    collector_argv = [sys.executable, "-m", "api.cli", "collect"]
    try:
        # 1. Register both persistent sessions, then leave so the broker queues for them.
        reference = subprocess.Popen(
            [*ref_args, "-W", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        reference.wait()
        paho_argv = [sys.executable, "-m", "bench.paho_reference", str(broker.port)]
        subprocess.run([*paho_argv, "0", "--protocol", args.protocol], check=True)
        first = subprocess.Popen(collector_argv, env=env)
        # Until it has subscribed, the broker queues nothing for it: a fixed sleep was shorter
        # than a loaded machine's start-up. A probe status lands in its registry once it has.
        wait_subscribed(broker.port, work / "state" / "devices.sqlite")
        first.terminate()
        first.wait()
        node_red = None
        if not args.no_node_red:
            httpx.post(f"{influx.url}/query", data={"q": 'CREATE DATABASE "nodered"'})
            node_red = NodeRed(work, broker.port, influx.port, "nodered")
            node_red.start()
            node_red.wait_connected()
            node_red.stop()

        # 2. Publish the fleet once: 3-6 metrics a message, timestamps in the recent past.
        fleet = Fleet(
            "bench",
            args.devices,
            1.0,
            float(args.steps),
            seed=7,
            start_ms=int(time.time() * 1000) - args.steps * 1000 - 60_000,
        )
        total = fleet.steps * len(fleet.models)
        print(f"publishing {total} messages from {args.devices} devices ...", flush=True)
        started = time.perf_counter()
        publisher = FleetPublisher(broker.url, fleet, client_id="bench-publisher")
        publisher.publish_all(fleet.messages(), realtime=False)
        publisher.close()
        print(f"  published in {time.perf_counter() - started:.1f}s", flush=True)

        # 3. Reference: mosquitto_sub drains its queue (QoS 1, no processing).
        started = time.perf_counter()
        subprocess.run(
            [*ref_args, "-C", str(total)], stdout=subprocess.DEVNULL, check=True, timeout=600
        )
        ref_s = time.perf_counter() - started
        ref_rate = total / ref_s

        # 3b. The Python floor: a naive paho subscriber that only acknowledges.
        started = time.perf_counter()
        subprocess.run(
            [*paho_argv, str(total), "--protocol", args.protocol], check=True, timeout=600
        )
        paho_s = time.perf_counter() - started
        paho_rate = total / paho_s

        # 4. One collector drains its queue into InfluxDB.
        store = InfluxStore(influx.url, "bench")
        started = time.perf_counter()
        collector = subprocess.Popen(collector_argv, env=env)
        peak = 0.0
        landed = 0
        deadline = started + 900
        while time.perf_counter() < deadline:
            peak = max(peak, peak_rss_mb(collector.pid))
            landed = count(store)
            if landed >= total:
                break
            time.sleep(0.2)
        col_s = time.perf_counter() - started
        peak = max(peak, peak_rss_mb(collector.pid))
        collector.terminate()
        collector.wait(timeout=60)
        col_rate = landed / col_s
        red = drain_node_red(node_red, InfluxStore(influx.url, "nodered"), total)
        print()
        print(
            f"messages                        {total}  (MQTT {args.protocol}, processes "
            "started inside the timings)"
        )
        print(f"mosquitto_sub (QoS 1, raw)      {ref_rate:10.0f} msg/s  ({ref_s:.2f}s)")
        print(
            f"naive paho subscriber (QoS 1)   {paho_rate:10.0f} msg/s  ({paho_s:.2f}s, "
            f"{paho_rate / ref_rate:.1%} of mosquitto_sub)"
        )
        print(
            f"collector -> InfluxDB (QoS 1)   {col_rate:10.0f} msg/s  ({col_s:.2f}s, "
            f"{col_rate / paho_rate:.1%} of naive paho)"
        )
        if red is not None:
            red_rate = red[1] / red[0]
            print(
                f"Node-RED flow -> InfluxDB       {red_rate:10.0f} msg/s  ({red[0]:.2f}s, "
                f"{red_rate / ref_rate:.1%} of mosquitto_sub, {total - red[1]} lost, "
                f"peak RSS {red[2]:.0f} MB)"
            )
            print(f"ratio collector / Node-RED      {col_rate / red_rate:10.2f}x  (target >= 1.5x)")
        print(f"ratio collector / mosquitto_sub {col_rate / ref_rate:10.1%}   (target >= 50%)")
        print(f"points lost                     {total - landed:10d}   (target 0)")
        print(f"collector peak RSS              {peak:10.1f} MB   (target <= 150 MB)")
        lost = total - landed
        if args.formats != "none":
            lost += format_table(args.formats, fleet, broker.url, influx.url, work, ref_rate)
        return 0 if lost == 0 else 1
    finally:
        broker.stop()
        influx.stop()


if __name__ == "__main__":
    threading.excepthook = lambda a: None
    sys.exit(main())

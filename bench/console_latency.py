"""Console live alarm latency: at a steady background load, the time from publishing a fault to
the alarm event arriving at a browser's server-sent-events connection (`GET /alarms/live`),
next to the raw broker round trip (publish -> a plain paho subscriber) in the same run.

    python -m bench.console_latency [--load 5000] [--probes 200]

The service runs as in production: `facility run` in its own process on private mosquitto,
InfluxDB and PostgreSQL; the background load is `facility simulate` in another process; this
process publishes the probes and holds the SSE connection, logged in as the console is.
Each probe is a new device crossing a critical threshold, so each raises a new alarm.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson
import paho.mqtt.client as mqtt

from bench.alarm_latency import (
    PROBE_RULE,
    client,
    percentile,
    publish_probes,
    raw_reference,
    seed_probe_site,
    start_load,
)
from maintenance.flows import unit_of_work
from maintenance.storage.db import make_engine, migrate
from tests.servers import Influx, Mosquitto, Postgres, free_port

PASSWORD = "bench admin password"


def seed(url: str, probes: int) -> None:
    engine = make_engine(url)
    migrate(engine)
    seed_probe_site(unit_of_work.database(engine), probes)
    engine.dispose()


class LiveFeed:
    """The console's SSE connection: when each probe's `raise` event arrived."""

    def __init__(self, base: str, token: str) -> None:
        self.arrived: dict[str, float] = {}
        self.connected = threading.Event()
        self._base, self._token = base, token
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self._token}"}
        with (
            httpx.Client(timeout=None) as http,
            http.stream("GET", f"{self._base}/alarms/live", headers=headers) as response,
        ):
            response.raise_for_status()
            for line in response.iter_lines():
                now = time.perf_counter()
                self.connected.set()
                if self._stop:
                    return
                if line.startswith("data: "):
                    event = orjson.loads(line[6:])
                    if event["action"] == "raise" and event["rule_id"] == "bench-probe":
                        self.arrived.setdefault(event["device_id"], now)

    def stop(self) -> None:
        self._stop = True


PAGES = ("/console/alarms", "/console/alarms/rows", "/console/sites", "/console/tickets")


def page_times(base: str, token: str, runs: int) -> None:
    """The console's pages in Chinese next to English, loaded alternately under the same load
    (the probes' alarms stand in the list): what localisation adds to a page."""
    print(f"\nconsole pages, zh-CN next to en, alternately ({runs} loads each)")
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
        for path in PAGES:
            times: dict[str, list[float]] = {"en": [], "zh-CN": []}
            for _ in range(runs):
                for language, into in times.items():
                    started = time.perf_counter()
                    response = http.get(path, headers={"Accept-Language": language})
                    into.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, (path, response.status_code)
                    assert response.headers["content-language"] == language
            en, zh = statistics.median(times["en"]), statistics.median(times["zh-CN"])
            print(
                f"{path:24} median en {en:6.1f} ms  zh-CN {zh:6.1f} ms  {zh / en:5.2f}x en  "
                "(target <= 1.10x)"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--load", type=int, default=5000, help="background messages per second")
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--probe-interval", type=float, default=0.15, help="seconds")
    parser.add_argument("--page-runs", type=int, default=60, help="loads of each page a language")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-console-latency-"))
    broker, influx, postgres = Mosquitto(work / "mosquitto"), Influx(work / "influx"), Postgres()
    broker.start()
    influx.start()
    postgres.start()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        database_url = postgres.create_database("console_latency")
        seed(database_url, args.probes)
        rules = work / "probe.yaml"
        rules.write_text(PROBE_RULE)
        port = free_port()
        env = {
            **os.environ,
            "FACILITY_MQTT_URL": broker.url,
            "FACILITY_INFLUX_URL": influx.url,
            "FACILITY_DATABASE_URL": database_url,
            "FACILITY_STATE_DIR": str(work / "state"),
            "FACILITY_HTTP_PORT": str(port),
            "FACILITY_ADMIN_PASSWORD": PASSWORD,
            "FACILITY_DEMO_FLEET": "false",
            "FACILITY_PLAN_GENERATION": "false",
            "FACILITY_ANOMALY_ENABLED": "false",
            "FACILITY_RULE_FILES": f"shipped,{rules}",
            "FACILITY_LOG_LEVEL": "WARNING",
        }
        service = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "run"], env=env, stdout=subprocess.DEVNULL
        )
        processes.append(service)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or service.poll() is not None:
                raise RuntimeError("the service did not come up")
            time.sleep(0.2)
        token = httpx.post(
            f"{base}/auth/token", data={"username": "admin", "password": PASSWORD}
        ).json()["access_token"]
        feed = LiveFeed(base, token)
        if not feed.connected.wait(10):
            raise RuntimeError("no SSE connection")

        received, watcher = raw_reference(broker.url)
        processes.append(start_load(broker.url, args.load, args.probes * args.probe_interval + 20))
        # Where the pipeline ends before the web: the alarm's retained MQTT state, published at
        # the same moment as the SSE stream's event (tells the pipeline from the HTTP hop).
        published: dict[str, float] = {}
        alarms = client(broker.url, "bench-alarm-watcher")

        def on_alarm(c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
            state = orjson.loads(m.payload)
            if state.get("action") == "raise" and state.get("rule_id") == "bench-probe":
                published.setdefault(state["device_id"], time.perf_counter())

        alarms.on_message = on_alarm
        alarms.subscribe("facility/bench/alarms/#", qos=1)

        def collected() -> int:
            return int(httpx.get(f"{base}/health", timeout=5).json()["collector"]["received"])

        time.sleep(5)  # the load reaches its steady rate
        counted_from, started = collected(), time.perf_counter()
        sent = publish_probes(broker.url, args.probes, args.probe_interval)
        rate = (collected() - counted_from) / (time.perf_counter() - started)
        deadline = time.monotonic() + 20
        while len(feed.arrived) < args.probes and time.monotonic() < deadline:
            time.sleep(0.1)
        feed.stop()
        live = [(feed.arrived[d] - t) * 1000 for d, t in sent.items() if d in feed.arrived]
        raw = [(received[d] - t) * 1000 for d, t in sent.items() if d in received]
        on_mqtt = [(published[d] - t) * 1000 for d, t in sent.items() if d in published]
        print(f"background load at the collector: {rate:,.0f} msg/s (asked {args.load:,})")
        print(
            f"probes: {args.probes}; on the SSE feed {len(live)}, at the raw subscriber {len(raw)}"
        )
        for name, values in (
            ("raw broker round trip", raw),
            ("fault -> alarm on MQTT", on_mqtt),
            ("fault -> console SSE", live),
        ):
            if not values:
                print(f"{name:24} no samples")
                continue
            p50, p90, p99 = (
                statistics.median(values),
                percentile(values, 0.9),
                percentile(values, 0.99),
            )
            extra = (
                f"  p99 = {p99 / percentile(raw, 0.99):.1f}x raw  (target p99 < 300 ms)"
                if values is live and raw
                else ""
            )
            print(f"{name:24} p50 {p50:7.1f} ms  p90 {p90:7.1f} ms  p99 {p99:7.1f} ms{extra}")
        for c in (watcher, alarms):
            c.loop_stop()
        page_times(base, token, args.page_runs)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        broker.kill()
        influx.kill()
        postgres.kill()
        postgres.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The no-loss guarantee with a gateway source: a ThingsBoard gateway's messages, each carrying
several devices, through `facility collect` killed with SIGKILL mid-stream and restarted, and
through a collector whose InfluxDB goes away and whose broker restarts: every reading lands
exactly once (a message is acknowledged only once all it yields is spooled)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ingest.store.influx import InfluxStore
from tests.helpers import wait_until
from tests.servers import Influx, Mosquitto

DEVICES = 5
MESSAGES = 600

SOURCES = """
sources:
  - name: plant
    format: thingsboard-gateway
    site: g1
    system: water
    devices:
""" + "".join(f'      "Pump {i}": {{device_id: pump-{i}}}\n' for i in range(DEVICES))


def count(store: InfluxStore) -> int:
    series = store.query("SELECT COUNT(flow) FROM \"water\" WHERE site = 'g1'")
    return int(series[0]["values"][0][1]) if series else 0


def landed(store: InfluxStore) -> dict[tuple[str, int], float]:
    out: dict[tuple[str, int], float] = {}
    for series in store.query("SELECT flow FROM \"water\" WHERE site = 'g1' GROUP BY device_id"):
        for ts, flow in series["values"]:
            out[(series["tags"]["device_id"], int(ts))] = float(flow)
    return out


def test_a_gateway_source_killed_mid_stream_and_restarted_loses_and_duplicates_nothing(
    mosquitto: Mosquitto, influx_server: Influx, tmp_path: Path
) -> None:
    database = f"t_{uuid.uuid4().hex[:10]}"
    sources = tmp_path / "sources.yaml"
    sources.write_text(SOURCES)
    env = {
        **os.environ,
        "FACILITY_MQTT_URL": mosquitto.url,
        "FACILITY_MQTT_CLIENT_ID": "collector-gateway-kill",
        "FACILITY_INFLUX_URL": influx_server.url,
        "FACILITY_INFLUX_DB": database,
        "FACILITY_STATE_DIR": str(tmp_path / "state"),
        "FACILITY_SOURCES_FILE": str(sources),
        "FACILITY_RULES_ENABLED": "false",
    }
    argv = [sys.executable, "-m", "api.cli", "collect"]
    store = InfluxStore(influx_server.url, database)
    start = int(time.time() * 1000) - 60_000
    expected = {
        (f"pump-{d}", start + m): float(m * 10 + d) for m in range(MESSAGES) for d in range(DEVICES)
    }
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="gateway-pub")
    publisher.connect("127.0.0.1", mosquitto.port)
    publisher.loop_start()

    def message(m: int) -> bytes:
        return orjson.dumps(
            {
                f"Pump {d}": [{"ts": start + m, "values": {"flow": m * 10 + d}}]
                for d in range(DEVICES)
            }
        )

    log = open(tmp_path / "collector.log", "ab")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        first = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
        processes.append(first)

        def probe() -> bool:  # until it has subscribed, the broker queues nothing for it
            publisher.publish("v1/gateway/telemetry", message(0), qos=1).wait_for_publish()
            time.sleep(0.3)
            return count(store) >= 1

        wait_until(probe, 30, "the collector to subscribe")

        def stream() -> None:
            for m in range(1, MESSAGES):
                publisher.publish("v1/gateway/telemetry", message(m), qos=1)
                time.sleep(6 / MESSAGES)

        thread = threading.Thread(target=stream)
        thread.start()
        wait_until(lambda: count(store) > 500, 30, "the stream to start landing")
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = count(store)
        second = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
        processes.append(second)
        thread.join()
        wait_until(
            lambda: count(store) == MESSAGES * DEVICES, 60, "every reading after the restart"
        )
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    finally:
        for process in processes:
            process.kill()
        publisher.loop_stop()
        publisher.disconnect()
        log.close()
    assert 500 < killed_at < MESSAGES * DEVICES
    assert landed(store) == expected


def test_a_gateway_source_through_a_store_outage_and_a_broker_restart_loses_nothing(
    mosquitto: Mosquitto, influx_private: Influx, tmp_path: Path
) -> None:
    from ingest.client import BrokerAddress, SubscriptionConfig
    from ingest.collector import CollectorConfig
    from ingest.service import IngestService
    from ingest.sources.router import SourceRouter
    from ingest.sources.sourcefile import parse_sources

    config = CollectorConfig()

    def start() -> IngestService:
        router = SourceRouter(parse_sources(SOURCES), config.limits)
        service = IngestService(
            BrokerAddress.from_url(mosquitto.url),
            SubscriptionConfig(client_id="collector-gateway-outage", topics=router.filters()),
            InfluxStore(influx_private.url, "outage", timeout_s=2.0),
            tmp_path / "state",
            config,
            sources=router,
        )
        service.start()
        wait_until(service.subscriber.connected.is_set, 10, "the collector to connect")
        return service

    service = start()
    start_ms = int(time.time() * 1000) - 60_000
    expected = {
        (f"pump-{d}", start_ms + m): float(m * 10 + d)
        for m in range(MESSAGES)
        for d in range(DEVICES)
    }
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="gateway-pub-outage")
    publisher.connect("127.0.0.1", mosquitto.port)
    publisher.loop_start()

    def stream() -> None:
        for m in range(MESSAGES):
            body = {
                f"Pump {d}": [{"ts": start_ms + m, "values": {"flow": m * 10 + d}}]
                for d in range(DEVICES)
            }
            publisher.publish("v1/gateway/telemetry", orjson.dumps(body), qos=1)
            time.sleep(8 / MESSAGES)

    thread = threading.Thread(target=stream)
    thread.start()
    try:
        time.sleep(1.5)
        influx_private.stop()
        time.sleep(3)
        assert not service.collector.stats.store_up
        assert service.collector.spool.backlog_points > 0
        influx_private.start()
        # The collector leaves (the broker queues its share), and the broker restarts.
        service.stop()
        mosquitto.stop()
        time.sleep(0.5)
        mosquitto.start()
        service = start()
        thread.join()
        store = InfluxStore(influx_private.url, "outage")
        wait_until(lambda: count(store) == MESSAGES * DEVICES, 60, "every reading")
    finally:
        thread.join()
        publisher.loop_stop()
        publisher.disconnect()
        service.stop()
    assert landed(store) == expected
    assert service.collector.stats.dead_lettered == 0

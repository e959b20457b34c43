"""Gateways and devices as they really publish, into a collector on a private mosquitto: the
ThingsBoard IoT Gateway reading a Modbus TCP device, ThingsBoard's device SDK, a Sparkplug B edge
node (pysparkplug), and an unmapped device held, listed, mapped and replayed once."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ingest.client import BrokerAddress, SubscriptionConfig
from ingest.collector import CollectorConfig
from ingest.readings import DeviceKey
from ingest.service import IngestService
from ingest.sources.mapping import LedgerLookup
from ingest.sources.router import SourceRouter
from ingest.sources.sourcefile import SourceFile
from ingest.store.sqlite import SqliteTelemetryStore
from tests.gateways.tbgateway import (
    ModbusDevice,
    ThingsBoardGateway,
    gateway_python,
    sparkplug_python,
)
from tests.helpers import wait_until
from tests.servers import ROOT, Mosquitto, free_port

SITE = "tower-a"


def start_collector(
    mosquitto: Mosquitto, state: Path, sources_yaml: str, ledger: LedgerLookup | None = None
) -> tuple[IngestService, SqliteTelemetryStore]:
    path = state / "sources.yaml"
    state.mkdir(parents=True, exist_ok=True)
    path.write_text(sources_yaml)
    file = SourceFile(path)
    config = CollectorConfig()
    router = SourceRouter(file.load(), config.limits, source_file=file, ledger=ledger)
    store = SqliteTelemetryStore(state / "telemetry.sqlite")
    service = IngestService(
        BrokerAddress.from_url(mosquitto.url),
        SubscriptionConfig(client_id=f"collector-{state.name}", topics=router.filters()),
        store,
        state,
        config,
        sources=router,
    )
    service.start()
    wait_until(service.subscriber.subscribed.is_set, 10, "the collector's subscription")
    return service, store


def values(store: SqliteTelemetryStore, system: str, device: str, metric: str) -> list[float]:
    now = int(time.time() * 1000)
    rows = store.raw(
        system, {"site": SITE, "device_id": device}, metric, now - 600_000, now + 60_000
    )
    return [float(v) for _, v in rows]


@pytest.fixture
def modbus(tmp_path: Path) -> Iterator[ModbusDevice]:
    device = ModbusDevice(tmp_path / "modbus", free_port(), {0: 2315, 1: 1234})
    device.start()
    yield device
    device.stop()


def test_thingsboard_gateway_reads_a_modbus_device_into_catalogue_metrics(
    mosquitto: Mosquitto, modbus: ModbusDevice, tmp_path: Path
) -> None:
    service, store = start_collector(
        mosquitto,
        tmp_path / "state",
        f"""
sources:
  - name: plant-gateway
    format: thingsboard-gateway
    site: {SITE}
    system: power
    devices:
      "Switch Room Meter": {{device_id: meter-1}}
      gateway: {{device_id: tb-gateway-1}}
    metrics:
      "40001": {{name: voltage_l1, scale: 0.1}}
      "40002": {{name: current_l1, scale: 0.01}}
""",
    )
    gateway = ThingsBoardGateway(
        tmp_path / "gateway", mosquitto.port, modbus.port, "Switch Room Meter"
    )
    gateway.start()
    try:
        registry = service.collector.devices
        meter = DeviceKey(SITE, "power", "meter-1")

        def landed() -> bool:
            return len(values(store, "power", "meter-1", "voltage_l1")) >= 2

        wait_until(landed, 60, "the gateway's Modbus readings")
        assert set(values(store, "power", "meter-1", "voltage_l1")) == {231.5}
        assert set(values(store, "power", "meter-1", "current_l1")) == {12.34}
        assert {r.device: r.online for r in registry.all()}[meter] is True
        modbus.stop()  # the device goes quiet: the gateway disconnects it after 3 s
        wait_until(
            lambda: {r.device: r.online for r in registry.all()}[meter] is False, 30, "offline"
        )
        # the gateway's own statistics, on its device API
        wait_until(
            lambda: DeviceKey(SITE, "power", "tb-gateway-1") in {r.device for r in registry.all()},
            30,
            "the gateway's statistics",
        )
        letters = [d.letter for d in service.collector.dead_letters.list(1000)]
        assert [d.reason for d in letters if d.reason == "unmapped device"] == []
    finally:
        gateway.stop()
        service.stop()


def test_thingsboard_device_sdk_with_an_access_token(tmp_path: Path) -> None:
    """The broker names the device in the topic: a listener for ThingsBoard devices mounts each
    client's topics under tb/<token>/ (here one device's listener, docs/sources.md). The SDK's
    getSessionLimits request is answered on its response topic; mosquitto 2.0.11 delivers that
    answer with the mount point still on the topic, so the SDK does not recognise it and goes on
    with its default limits (it sends telemetry either way)."""
    broker = Mosquitto(tmp_path / "mosquitto")
    device_port = free_port()
    with broker.config.open("a") as config:
        config.write(f"listener {device_port} 127.0.0.1\nmount_point tb/METER-TOKEN-7/\n")
    broker.start()
    try:
        service, store = start_collector(
            broker,
            tmp_path / "state",
            f"""
sources:
  - name: devices
    format: thingsboard-device
    topics: ["tb/+/v1/devices/me/#"]
    device_level: 1
    site: {SITE}
    system: water
    devices: {{METER-TOKEN-7: {{device_id: pump-7}}}}
    metrics: {{Pump1_Current_A: pump_current}}
""",
        )
        assert service.sources is not None
        # What the broker carries back to the device: the service's answer to its RPC request,
        # watched on the broker itself (the answer's topic under the device's mount point).
        answered: list[str] = []
        watcher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="rpc-watcher")
        watching = threading.Event()
        watcher.on_message = lambda client, userdata, message: answered.append(message.topic)
        watcher.on_subscribe = lambda *args: watching.set()
        watcher.connect("127.0.0.1", broker.port)
        watcher.loop_start()
        subscribed = watcher.subscribe("tb/+/v1/devices/me/rpc/response/+", qos=1)
        assert subscribed[0] == mqtt.MQTT_ERR_SUCCESS
        assert watching.wait(10)  # the broker's SUBACK: watching before the device asks
        try:
            script = ROOT / "tests" / "gateways" / "tb_device.py"
            run = subprocess.run(
                [str(gateway_python()), str(script), str(device_port), "METER-TOKEN-7"],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert (run.returncode, run.stdout) == (0, "limits asked\n"), run.stderr
            wait_until(
                lambda: len(values(store, "water", "pump-7", "pump_current")) == 2, 15, "telemetry"
            )
            assert values(store, "water", "pump-7", "pump_current") == [17.5, 18.0]
            assert values(store, "water", "pump-7", "flow") == [42.0]
            # The one answer to the SDK's one request (the script exits only once the SDK has
            # sent it); the answer may reach the watcher after the telemetry is stored.
            answer = ["tb/METER-TOKEN-7/v1/devices/me/rpc/response/1"]
            wait_until(lambda: answered == answer, 15, "the answer to getSessionLimits")
            assert answered == answer
            assert service.collector.dead_letters.count() == 0
        finally:
            watcher.loop_stop()
            watcher.disconnect()
            service.stop()
    finally:
        broker.stop()


def test_a_sparkplug_edge_node_birth_aliases_gap_rebirth_and_death(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    service, store = start_collector(
        mosquitto,
        tmp_path / "state",
        f"""
sources:
  - name: edge
    format: sparkplug-b
    site: {SITE}
    system: water
    devices:
      plant/node1: {{device_id: edge-1}}
      plant/node1/pump1: {{device_id: pump-1}}
    metrics:
      Outlet Pressure: {{name: outlet_pressure, scale: 0.01}}
""",
    )
    registry = service.collector.devices
    pump_key, node_key = DeviceKey(SITE, "water", "pump-1"), DeviceKey(SITE, "water", "edge-1")
    try:
        script = ROOT / "tests" / "gateways" / "spb_edge_node.py"
        run = subprocess.run(
            [str(sparkplug_python()), str(script), str(mosquitto.port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert run.stdout.splitlines() == [
            "NCMD Node Control/Rebirth True",
            "rebirth requested: True",
        ]
        wait_until(lambda: len(values(store, "water", "pump-1", "pump_current")) == 4, 15, "data")
        assert values(store, "water", "pump-1", "pump_current") == [10.0, 11.0, 12.0, 13.0]
        assert values(store, "water", "pump-1", "outlet_pressure") == [3.5]
        assert values(store, "water", "edge-1", "uptime") == [1.0]
        wait_until(lambda: not any(r.online for r in registry.all()), 15, "death: all offline")
        assert {r.device: r.online for r in registry.all()} == {node_key: False, pump_key: False}
        reasons = [d.letter.reason for d in service.collector.dead_letters.list()]
        assert reasons == [
            "source edge: sparkplug: sequence gap on plant/node1: expected 4, got 5; "
            "rebirth requested"
        ]
    finally:
        service.stop()

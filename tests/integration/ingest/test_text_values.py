"""Text values a gateway sends (a connector's name, a text state) through a real mosquitto into
the collector: the device's attributes in its registry, kept across a restart; no dead letter."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ingest.readings import DeviceKey
from tests.integration.ingest.test_gateways import SITE, start_collector, values
from tests.servers import Mosquitto, wait_until

SOURCES = f"""
sources:
  - name: bms
    format: json
    topics: ["bms/+/state"]
    site: {SITE}
    system: water
    json: {{device: device, time: ts, metrics_object: values}}
    devices: {{Pump-3: {{device_id: pump-3}}}}
    metrics: {{connectorName: connector}}
"""


def test_text_values_become_the_devices_attributes(mosquitto: Mosquitto, tmp_path: Path) -> None:
    state = tmp_path / "state"
    service, store = start_collector(mosquitto, state, SOURCES)
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bms-publisher")
    publisher.connect("127.0.0.1", mosquitto.port)
    publisher.loop_start()
    pump = DeviceKey(SITE, "water", "pump-3")
    now = int(time.time() * 1000)
    try:
        for ts, speed, mode in ((now - 2, 3, "auto"), (now - 1, 4, "manual")):
            body = {
                "device": "Pump-3",
                "ts": ts,
                "values": {"pump_speed": speed, "mode": mode, "connectorName": "Modbus pump room"},
            }
            info = publisher.publish("bms/pump-3/state", orjson.dumps(body), qos=1)
            info.wait_for_publish(10)
        wait_until(lambda: len(values(store, "water", "pump-3", "pump_speed")) == 2, 15, "readings")
        assert values(store, "water", "pump-3", "pump_speed") == [3.0, 4.0]
        assert values(store, "water", "pump-3", "mode") == []  # text is not a time series
        registry = service.collector.devices
        assert {n: (a.value, a.ts_ms) for n, a in registry.attributes(pump).items()} == {
            "mode": ("manual", now - 1),
            "connector": ("Modbus pump room", now - 1),
        }
        assert service.collector.dead_letters.count() == 0
        assert service.collector.stats.dead_lettered == 0
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        service.stop()
    again, _ = start_collector(mosquitto, state, SOURCES)
    try:
        assert {n: a.value for n, a in again.collector.devices.attributes(pump).items()} == {
            "mode": "manual",
            "connector": "Modbus pump room",
        }
    finally:
        again.stop()

"""Simulator fault -> real mosquitto -> collector -> rules -> alarm -> ticket -> API and MQTT."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from api.main import create_app
from api.runtime import Runtime
from api.settings import Settings
from maintenance.alarms.transitions import AlarmTransition
from maintenance.assets.schemas import AssetCreate, SiteCreate
from maintenance.assets.service import create_site, save_asset
from maintenance.dispatch.roster import TechnicianCreate, create_technician
from maintenance.storage.db import migrate
from simulators.fleet import Fleet
from tests.helpers import authorized, publish, recent_fleet, wait_until
from tests.servers import Mosquitto

pytestmark = pytest.mark.integration


@pytest.fixture
def service(tmp_path: Path, mosquitto: Mosquitto) -> Iterator[tuple[Runtime, TestClient]]:
    settings = Settings(
        state_dir=tmp_path / "state",
        mqtt_url=mosquitto.url,
        demo_fleet=False,
        plan_generation=False,
        alarm_clock_interval_s=0.2,
    )
    runtime = Runtime(settings)
    migrate(runtime.engine)
    seed_ledger(runtime, recent_fleet(devices=5, steps=1))
    runtime.start()
    wait_until(runtime.ingest.subscriber.connected.is_set, 10, "the collector to connect")
    yield runtime, authorized(TestClient(create_app(runtime)), runtime.database)
    runtime.stop()


def seed_ledger(runtime: Runtime, fleet: Fleet) -> None:
    with runtime.database.transaction() as s:
        site = create_site(s, SiteCreate(code="s1", name="Estate", supervisor="sup-chen"))
        for model in fleet.models:
            save_asset(
                s,
                AssetCreate(
                    site_id=site.id,
                    code=model.device_id.upper(),
                    system=model.system,
                    type=model.system,
                    device_ids=[model.device_id],
                ),
            )
        create_technician(s, TechnicianCreate(name="Wang", skills=["elevator"], site_ids=[site.id]))


def retained_alarms(url: str, site: str) -> queue.Queue[dict[str, object]]:
    received: queue.Queue[dict[str, object]] = queue.Queue()
    host, port = url.removeprefix("mqtt://").split(":")
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="alarm-watcher")
    client.on_message = lambda c, u, m: received.put(orjson.loads(m.payload))
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    client.on_connect = lambda c, *args: c.subscribe(f"facility/{site}/alarms/#", qos=1)
    client.connect(host, int(port))
    client.loop_start()
    assert subscribed.wait(10)
    return received


def test_a_trapped_passenger_becomes_an_alarm_and_an_emergency_ticket(
    service: tuple[Runtime, TestClient], mosquitto: Mosquitto
) -> None:
    runtime, client = service
    live: queue.Queue[AlarmTransition] = runtime.alarm_stream.subscribe()
    fleet = recent_fleet(devices=5, steps=60, scenario="elevator_trapped_passenger")
    (truth,) = fleet.truth()
    publish(mosquitto.url, fleet.messages(), fleet)

    def alarm_ticket() -> list[dict[str, object]]:
        body = client.get("/tickets", params={"type": "alarm"}).json()
        return list(body["items"])

    wait_until(lambda: len(alarm_ticket()) == 1, 20, "the alarm ticket")
    page = client.get("/alarms", params={"standing": True}).json()
    assert page["total"] == 1
    (alarm,) = page["items"]
    assert (alarm["rule_id"], alarm["device_id"], alarm["severity"]) == (
        "elevator-trapped-passenger",
        truth.device_id,
        "critical",
    )
    assert alarm["state"] == "active_unacknowledged"
    (ticket,) = alarm_ticket()
    assert (ticket["priority"], ticket["state"], ticket["id"]) == (
        "emergency",
        "assigned",
        alarm["ticket_id"],
    )
    first = live.get(timeout=5)
    assert (first.action, first.rule_id) == ("raise", "elevator-trapped-passenger")

    acked = client.post(f"/alarms/{alarm['id']}/acknowledge", json={"actor": "eng:liu"})
    assert acked.status_code == 200 and acked.json()["state"] == "active_acknowledged"
    again = client.post(f"/alarms/{alarm['id']}/acknowledge", json={"actor": "eng:liu"})
    assert again.status_code == 409 and again.json()["allowed"] == ["clear", "reset"]
    trail = client.get(f"/alarms/{alarm['id']}/events").json()
    assert [(e["action"], e["actor"]) for e in trail] == [
        ("raise", "rules"),
        ("acknowledge", "eng:liu"),
    ]
    assert client.get(f"/tickets/{ticket['id']}/alarms").json()[0]["id"] == alarm["id"]

    # The current state is retained on MQTT for late subscribers (and not read back as data).
    retained = retained_alarms(mosquitto.url, "s1")
    state = retained.get(timeout=10)
    assert (state["alarm_id"], state["to_state"]) == (alarm["id"], "active_acknowledged")
    assert runtime.ingest.collector.stats.dead_lettered == 0


def test_a_threshold_fault_raises_after_its_delay_in_telemetry_time(
    service: tuple[Runtime, TestClient], mosquitto: Mosquitto
) -> None:
    runtime, client = service
    fleet = recent_fleet(devices=5, steps=1200, scenario="transformer_over_temperature")
    (truth,) = fleet.truth()
    publish(mosquitto.url, fleet.messages(), fleet)
    wait_until(
        lambda: (
            client.get("/alarms", params={"rule_id": "power-transformer-hot"}).json()["total"] == 1
        ),
        30,
        "the transformer alarm",
    )
    (alarm,) = client.get("/alarms", params={"rule_id": "power-transformer-hot"}).json()["items"]
    assert alarm["device_id"] == truth.device_id
    raised_ms = int(
        __import__("datetime").datetime.fromisoformat(alarm["raised_at"]).timestamp() * 1000
    )
    assert truth.start_ms + 120_000 <= raised_ms <= truth.end_ms  # the 2 min on-delay held
    (ticket,) = client.get("/tickets", params={"type": "alarm"}).json()["items"]
    assert ticket["priority"] == "urgent"  # major -> urgent
    assert ticket["state"] == "new"  # nobody with the power skill: not assigned
    wrong = client.post(f"/alarms/{alarm['id']}/shelve", json={"actor": "eng", "minutes": 10})
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["body", "reason"]

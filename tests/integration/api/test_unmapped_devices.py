"""A gateway device nobody has mapped: its messages are held (never stored under a guessed name),
it is listed with its last payload and metrics, an admin maps it in the ledger, and `facility
deadletters replay` brings the held messages in exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.runtime import Runtime
from api.settings import Settings
from tests.helpers import api_key, authorized, wait_until
from tests.servers import Mosquitto

SOURCES = """
sources:
  - name: plant
    format: thingsboard-gateway
    site: tower-a
    system: water
    devices:
      "Pump 1": {device_id: pump-1}
    metrics:
      "40001": {name: outlet_pressure, scale: 0.01}
"""


def facility(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def publish(port: int, topic: str, body: object) -> None:
    subprocess.run(
        [
            "mosquitto_pub",
            "-p",
            str(port),
            "-q",
            "1",
            "-t",
            topic,
            "-m",
            orjson.dumps(body).decode(),
        ],
        check=True,
    )


@pytest.fixture
def service(
    mosquitto: Mosquitto, tmp_path: Path
) -> Iterator[tuple[Runtime, TestClient, dict[str, str]]]:
    sources = tmp_path / "sources.yaml"
    sources.write_text(SOURCES)
    state = tmp_path / "state"
    env = {
        "FACILITY_STATE_DIR": str(state),
        "FACILITY_DATABASE_URL": f"sqlite:///{state / 'facility.sqlite'}",
        "FACILITY_SOURCES_FILE": str(sources),
        "FACILITY_MQTT_URL": mosquitto.url,
    }
    settings = Settings(
        state_dir=state,
        mqtt_url=mosquitto.url,
        sources_file=sources,
        demo_fleet=False,
        mqtt_client_id="collector-unmapped",
    )
    runtime = Runtime(settings)
    runtime.start()
    wait_until(runtime.ingest.subscriber.connected.is_set, 10, "the collector to connect")
    yield runtime, authorized(TestClient(create_app(runtime)), runtime.database), env
    runtime.stop()


def pressures(runtime: Runtime, device: str) -> list[tuple[int, float]]:
    rows = runtime.ingest.store.raw(
        "water", {"site": "tower-a", "device_id": device}, "outlet_pressure", 0, 2**62
    )
    return [(ts, float(v)) for ts, v in rows]


def test_an_unmapped_device_is_held_listed_mapped_and_replayed_once(
    mosquitto: Mosquitto, service: tuple[Runtime, TestClient, dict[str, str]]
) -> None:
    runtime, client, env = service
    now = int(time.time() * 1000)
    for i in range(3):
        publish(
            mosquitto.port,
            "v1/gateway/telemetry",
            {
                "Pump 1": [{"ts": now + i, "values": {"40001": 300 + i}}],
                "pump-9": [{"ts": now + i, "values": {"40001": 400 + i, "running_hours": 7}}],
            },
        )
    collector = runtime.ingest.collector
    wait_until(lambda: collector.stats.dead_lettered == 3, 10, "three held messages")
    wait_until(lambda: len(pressures(runtime, "pump-1")) == 3, 10, "the mapped device's points")
    assert pressures(runtime, "pump-9") == []  # not stored, not under any name

    listing = client.get("/devices/unmapped")
    assert listing.status_code == 200
    (held,) = listing.json()["held"]
    assert held["source"] == "plant"
    assert held["device"] == "pump-9"
    assert held["messages"] == 3
    assert held["metrics"] == ["40001", "running_hours"]
    assert held["topic"] == "v1/gateway/telemetry"
    assert held["last_payload"] == {
        "source": "plant",
        "device": "pump-9",
        "ts": now + 2,
        "metrics": {"40001": 402.0, "running_hours": 7.0},
    }
    cli = facility("devices", "--unmapped", env=env)
    assert cli.returncode == 0, cli.stderr
    assert "held    plant: 'pump-9' 3 messages held" in cli.stdout
    assert "metrics 40001, running_hours" in cli.stdout

    # An admin maps it: an asset of the site with the gateway's name as a device id.
    site = client.post("/sites", json={"code": "tower-a", "name": "Tower A"})
    assert site.status_code == 201, site.text
    asset = client.post(
        "/assets",
        json={
            "site_id": site.json()["id"],
            "code": "PUMP-9",
            "system": "water",
            "type": "booster pump",
            "device_ids": ["pump-9"],
        },
    )
    assert asset.status_code == 201, asset.text
    time.sleep(1.1)  # the ledger's device ids are read again at most every second

    replay = facility("deadletters", "replay", "--reason", "unmapped device", env=env)
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout.strip() == "3 held messages: 3 replayed, 0 still held (device unmapped)"
    wait_until(lambda: len(pressures(runtime, "pump-9")) == 3, 10, "the replayed points")
    assert pressures(runtime, "pump-9") == [(now, 4.0), (now + 1, 4.01), (now + 2, 4.02)]
    assert client.get("/devices/unmapped").json()["held"] == []

    again = facility("deadletters", "replay", "--reason", "unmapped device", env=env)
    assert again.stdout.strip() == "0 held messages: 0 replayed, 0 still held (device unmapped)"
    publish(
        mosquitto.port,
        "v1/gateway/telemetry",
        {"pump-9": [{"ts": now + 3, "values": {"40001": 410}}]},
    )
    wait_until(lambda: len(pressures(runtime, "pump-9")) == 4, 10, "a new message, mapped at once")
    assert pressures(runtime, "pump-9")[3] == (now + 3, 4.1)
    assert collector.stats.replayed == 3
    assert collector.stats.dead_lettered == 3


def test_the_map_route_maps_a_held_device_to_an_asset_and_replays_it_once(
    mosquitto: Mosquitto, service: tuple[Runtime, TestClient, dict[str, str]]
) -> None:
    runtime, client, _ = service
    now = int(time.time() * 1000)
    for i in range(3):
        publish(
            mosquitto.port,
            "v1/gateway/telemetry",
            {
                "pump-9": [{"ts": now + i, "values": {"40001": 400 + i}}],
                "Fan Room 3": [{"ts": now + i, "values": {"rpm": 900}}],
            },
        )
    collector = runtime.ingest.collector
    wait_until(lambda: collector.stats.dead_lettered == 6, 10, "six held messages")
    site = client.post("/sites", json={"code": "tower-a", "name": "Tower A"}).json()["id"]
    other = client.post("/sites", json={"code": "tower-b", "name": "Tower B"}).json()["id"]
    pump = {"code": "PUMP-9", "system": "water", "type": "booster pump"}
    asset = client.post("/assets", json={"site_id": site, **pump}).json()["id"]
    elsewhere = client.post("/assets", json={"site_id": other, **pump}).json()["id"]

    mapping = {"source": "plant", "device": "pump-9", "asset_id": asset}
    engineer = {"X-API-Key": api_key(runtime.database, "engineer")}
    refused = client.post("/devices/unmapped/map", json=mapping, headers=engineer)
    assert refused.status_code == 403
    unknown = client.post("/devices/unmapped/map", json={**mapping, "device": "pump-77"})
    assert (unknown.status_code, unknown.json()) == (
        404,
        {
            "detail": "unmapped device plant/pump-77 not found",
            "kind": "unmapped device",
            "id": "plant/pump-77",
        },
    )

    def invalid(body: dict[str, object], field: str, message: str) -> None:
        answer = client.post("/devices/unmapped/map", json=body)
        assert (answer.status_code, answer.json()) == (
            422,
            {"detail": [{"loc": ["body", field], "msg": message, "type": "value_error"}]},
        )

    invalid(
        {**mapping, "asset_id": elsewhere}, "asset_id", "source plant is site tower-a, not tower-b"
    )
    invalid(
        {**mapping, "device": "Fan Room 3"},
        "device",
        "'Fan Room 3' cannot be a device id; map it in the sources file",
    )
    invalid({**mapping, "source": "nope"}, "source", "no source 'nope' in the sources file")
    assert pressures(runtime, "pump-9") == []  # the refusals mapped nothing

    mapped = client.post("/devices/unmapped/map", json=mapping)
    assert (mapped.status_code, mapped.json()) == (
        200,
        {
            "source": "plant",
            "device": "pump-9",
            "asset_id": asset,
            "asset_code": "PUMP-9",
            "site": "tower-a",
            "system": "water",
            "device_id": "pump-9",
            "replayed": 3,
            "still_held": 0,
        },
    )
    assert client.get(f"/assets/{asset}").json()["device_ids"] == ["pump-9"]
    wait_until(lambda: len(pressures(runtime, "pump-9")) == 3, 10, "the replayed points")
    assert pressures(runtime, "pump-9") == [(now, 4.0), (now + 1, 4.01), (now + 2, 4.02)]
    held = client.get("/devices/unmapped").json()["held"]
    assert [(d["device"], d["messages"]) for d in held] == [("Fan Room 3", 3)]
    again = client.post("/devices/unmapped/map", json=mapping)  # nothing held: nothing twice
    assert again.status_code == 404
    time.sleep(0.5)
    assert len(pressures(runtime, "pump-9")) == 3
    assert collector.stats.replayed == 3

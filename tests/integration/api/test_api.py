"""The service as `make run` wires it: /health and /metrics over embedded and real servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.runtime import Runtime
from api.settings import Settings
from simulators.fleet import Fleet
from simulators.publisher import FleetPublisher
from tests.helpers import authorized, recent_fleet, wait_until
from tests.servers import Influx, Mosquitto, free_port


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[tuple[Runtime, TestClient]]:
    settings = Settings(
        state_dir=tmp_path / "state", embedded_mqtt_port=free_port(), demo_fleet=False
    )
    runtime = Runtime(settings)
    runtime.start()
    wait_until(runtime.ingest.subscriber.connected.is_set, 10, "the collector to connect")
    yield runtime, authorized(TestClient(create_app(runtime)), runtime.database)
    runtime.stop()


def publish(url: str, fleet: Fleet, mqtt5: bool = True) -> None:
    publisher = FleetPublisher(url, fleet, client_id="api-test", mqtt5=mqtt5)
    publisher.publish_all(fleet.messages(), realtime=False)
    publisher.close()


def test_health_reports_components_and_counters_on_embedded_defaults(
    embedded: tuple[Runtime, TestClient],
) -> None:
    runtime, client = embedded
    publish(runtime.mqtt_url, recent_fleet(devices=5, steps=20), mqtt5=False)
    wait_until(lambda: runtime.ingest.collector.stats.written == 100, 20, "100 points")
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["components"] == {"broker": "up", "telemetry_store": "up", "database": "up"}
    assert body["collector"]["received"] == 100
    assert body["collector"]["written"] == 100
    assert body["collector"]["dead_lettered"] == 0
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert "facility_ingest_written_total 100.0" in metrics.text
    assert "facility_store_write_seconds_count" in metrics.text


def test_health_is_503_when_the_telemetry_store_is_down(tmp_path: Path) -> None:
    mosquitto = Mosquitto(tmp_path / "mosquitto")
    mosquitto.start()
    try:
        settings = Settings(
            state_dir=tmp_path / "state",
            mqtt_url=mosquitto.url,
            influx_url=f"http://127.0.0.1:{free_port()}",
            demo_fleet=False,
        )
        runtime = Runtime(settings)
        runtime.start()
        wait_until(runtime.ingest.subscriber.connected.is_set, 10, "the collector to connect")
        response = TestClient(create_app(runtime)).get("/health")
        runtime.stop()
    finally:
        mosquitto.kill()
    assert response.status_code == 503
    assert response.json()["components"]["telemetry_store"] == "down"
    assert response.json()["components"]["broker"] == "up"


def test_the_same_service_runs_on_real_mosquitto_and_influxdb(
    mosquitto: Mosquitto, influx_server: Influx, tmp_path: Path
) -> None:
    settings = Settings(
        state_dir=tmp_path / "state",
        mqtt_url=mosquitto.url,
        influx_url=influx_server.url,
        influx_db="api_real",
        demo_fleet=False,
    )
    runtime = Runtime(settings)
    runtime.start()
    wait_until(runtime.ingest.subscriber.connected.is_set, 10, "the collector to connect")
    publish(mosquitto.url, recent_fleet(devices=5, steps=10))
    wait_until(lambda: runtime.ingest.collector.stats.written == 50, 20, "50 points")
    response = TestClient(create_app(runtime)).get("/health")
    runtime.stop()
    assert response.status_code == 200
    assert response.json()["collector"]["written"] == 50


def test_the_demo_fleet_comes_with_its_ledger_and_first_inspections(tmp_path: Path) -> None:
    settings = Settings(
        state_dir=tmp_path / "state", embedded_mqtt_port=free_port(), demo_devices=5, demo_rate=5.0
    )
    for _ in range(2):  # a restart finds the demo ledger and adds nothing
        runtime = Runtime(settings)
        runtime.start()
        try:
            client = authorized(TestClient(create_app(runtime)), runtime.database)
            assets = client.get("/assets").json()
            assert sorted(a["code"] for a in assets) == [
                "CAMERA-001",
                "ELEVATOR-001",
                "FIRE-001",
                "FIRE-CONTROL-ROOM",
                "LIGHTNING-A",
                "POWER-001",
                "WATER-001",
                "WATER-TANK-ROOF",
            ]
            technicians = {t["name"]: t for t in client.get("/technicians").json()}
            assert len(technicians) == 6
            fitter = technicians["Lift Co fitter"]
            (company,) = client.get("/contractors").json()
            elevator = next(a["id"] for a in assets if a["system"] == "elevator")
            assert (company["name"], company["asset_ids"]) == ("Lift Co (demo)", [elevator])
            assert fitter["contractor_id"] == company["id"]
            accounts = {u["username"]: u for u in client.get("/users").json()}
            site = fitter["site_ids"]
            assert (accounts["demo-lifts"]["role"], accounts["demo-lifts"]["site_ids"]) == (
                "contractor",
                site,
            )
            assert accounts["demo-lifts"]["technician_id"] == fitter["id"]
            assert (accounts["demo-water"]["role"], accounts["demo-water"]["site_ids"]) == (
                "technician",
                site,
            )
            runtime.scheduler.generate_plans()
            inspections = client.get("/tickets", params={"type": "inspection", "limit": 100}).json()
            # today's first occurrences of the programme library:
            assert inspections["total"] == (
                5  # the devices' assets' quarterly or monthly (camera) inspection
                + 2  # the lift's annual maintenance tier; its authority inspection (3 weeks)
                + 2  # the fire panel's monthly inspection and annual test
                + 3  # the control room's: the same two and its daily checks
                + 3  # the control room's, tank's, lightning protection's quarterly inspection
                + 2  # the tank's cleaning and water-quality test
                + 1  # the lightning protection's yearly test
            )
            assert all(t["state"] == "assigned" for t in inspections["items"])
            lift = next(t for t in inspections["items"] if t["asset_id"] == elevator)
            assert lift["assignee_id"] == fitter["id"]  # the contractor's asset: its technician
            stats = runtime.ingest.collector.stats
            wait_until(lambda: stats.written > 0, 20, "demo telemetry")  # noqa: B023
        finally:
            runtime.stop()

"""Learning from technicians, end to end on each database with the real telemetry store: an
anomaly finding opens a predictive inspection, the technician resolves it with a verdict, the
verdict is kept with the finding's window, the reports count it, and the next training takes a
false finding's window in as normal (its threshold rising at most by the bounded factor) and
keeps a confirmed fault's window out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from api.runtime import Runtime
from api.settings import Settings
from ingest.payloads import PayloadLimits, parse_message
from ingest.points import reading_point
from ingest.readings import DeviceKey, Reading
from ingest.store.base import TelemetryStore
from maintenance.accounts import service as users
from maintenance.alarms import findings
from maintenance.alarms.models import FindingReview
from maintenance.alarms.monitor import AlarmMonitor
from maintenance.assets.models import Asset
from maintenance.notifications.notifier import CollectingNotifier
from maintenance.storage.db import Database
from maintenance.work_orders.models import Ticket
from rules.engine import ConditionChange, RuleEngine
from rules.registry import ModelRegistry
from rules.training import TrainingPlan, device_history, features_of, train
from simulators.fleet import Fleet
from tests.helpers import authorized, console_login
from tests.ledger import seed
from tests.servers import free_port

DAY_MS = 86_400_000
START_MS = 1_790_000_000_000 - 1_790_000_000_000 % DAY_MS  # a day of history from here
PUMP = DeviceKey("estate-1", "water", "water-001")
LIMITS = PayloadLimits(max_past_ms=10**13, max_future_ms=10**13)
# The finding: an hour of the next day, where the pump cavitates (the technician will judge)
WINDOW = (START_MS + DAY_MS + 2 * 3_600_000, START_MS + DAY_MS + 3 * 3_600_000)


def at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def write(store: TelemetryStore, fleet: Fleet) -> None:
    readings = [
        item
        for message in fleet.messages()
        if isinstance(
            item := parse_message(message.topic.encode(), message.payload, 0, LIMITS), Reading
        )
        and item.device.device_id == PUMP.device_id
    ]
    store.write([reading_point(r) for r in readings])


@pytest.fixture
def runtime(database: Database, tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings(
        plan_generation=False,
        rules_enabled=False,
        state_dir=tmp_path / "state",
        embedded_mqtt_port=free_port(),
        demo_fleet=False,
        database_url=database.engine.url.render_as_string(hide_password=False),
    )
    runtime = Runtime(settings)
    runtime.start()
    seed(runtime.database)
    store = runtime.ingest.store
    write(store, Fleet("estate-1", 2, 1 / 5, 86_400, seed=11, start_ms=START_MS))
    faulty = Fleet(
        "estate-1",
        2,
        1 / 5,
        6 * 3600,
        seed=5,
        start_ms=START_MS + DAY_MS,
        scenario="pump_cavitation",
    )
    write(store, faulty)
    yield runtime
    runtime.stop()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def finding(runtime: Runtime) -> int:
    """The anomaly model's finding over WINDOW, as the monitor records it; its ticket's id."""
    monitor = AlarmMonitor(
        runtime.database,
        RuleEngine([]),
        notifier=CollectingNotifier(),
        clock=lambda: at(WINDOW[0]),
    )
    values: dict[str, float | bool | str] = {
        "model": "water/water-001 v1",
        "score": 2.5,
        "drivers": "outlet_pressure",
        "outlet_pressure": 4.9,
        "outlet_pressure normal": "3.51 .. 4.215",
        "outlet_pressure share": 0.8,
    }
    raised = ConditionChange("anomaly:water", PUMP, "raise", WINDOW[0], "warning", "", values)
    monitor.apply([raised])
    monitor.apply([ConditionChange("anomaly:water", PUMP, "clear", WINDOW[1], "warning", "", {})])
    with runtime.database.read() as s:
        (ticket,) = s.scalars(select(Ticket).where(Ticket.fault == "anomaly:water")).all()
        return ticket.id


def resolve(client: TestClient, ticket_id: int, **extra: Any) -> httpx.Response:
    path = f"/tickets/{ticket_id}/transitions"
    for body in (
        {"action": "accept", "actor": "Wang", "committed_at": "2026-12-02T11:00:00Z"},
        {"action": "start", "actor": "Wang"},
    ):
        ok(client.post(path, json=body))
    answer: httpx.Response = client.post(
        path, json={"action": "resolve", "actor": "Wang", "note": "checked", **extra}
    )
    return answer


def rows_in(store: TelemetryStore, window: tuple[int, int]) -> int:
    """The pump's rows (a timestamp any of its gauges reported at) in [start, end]."""
    features = features_of("water")
    plan = TrainingPlan(*window)
    return len(device_history(store, "estate-1", "water", "water-001", features, plan))


def test_a_false_finding_is_learned_as_normal_with_a_bounded_threshold(
    runtime: Runtime, tmp_path: Path
) -> None:
    store = runtime.ingest.store
    registry = ModelRegistry(tmp_path / "models")
    devices = [("estate-1", "water", "water-001")]
    plan = TrainingPlan(START_MS, START_MS + DAY_MS)
    (before,) = [r for r in train(store, registry, devices, plan, now_ms=0) if r.key == "water"]
    assert before.meta is not None and before.meta.threshold == 1.0
    ticket_id = finding(runtime)
    app = create_app(runtime)
    client = authorized(TestClient(app), runtime.database)
    # A predictive inspection is resolved with a verdict, and only it takes one.
    refused = resolve(client, ticket_id)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "finding"]
    # The console offers the resolution as the two verdicts.
    with runtime.database.transaction() as s:
        users.create_user(s, "chen", "a long passphrase", "admin", now=at(WINDOW[1]))
    browser = TestClient(app)
    assert console_login(browser, "chen", "a long passphrase").status_code == 303
    html = browser.get(f"/console/tickets/{ticket_id}").text
    buttons = re.findall(r'<button[^>]*data-transition="resolve"[^>]*>([^<]*)</button>', html)
    assert buttons == ["Resolve: fault found", "Resolve: no fault found"]
    assert re.findall(r'data-finding="([a-z_]+)"', html) == ["confirmed", "no_fault_found"]
    # The device page highlights the metric behind the finding, its learned range shaded.
    device = browser.get("/console/devices/estate-1/water/water-001").text
    highlighted = re.findall(r'<figure class="chart driver"[^>]*metric=([a-z_]+)"[^>]*>', device)
    assert highlighted == ["outlet_pressure"]
    assert 'data-normal-low="3.51" data-normal-high="4.215"' in device
    assert re.findall(r'<mark class="driver">([^<]*)</mark>', device) == [
        "behind the anomaly finding: 80 % · normal 3.51 .. 4.215 bar (shaded)"
    ]
    resolved = ok(
        client.post(
            f"/tickets/{ticket_id}/transitions",
            json={"action": "resolve", "actor": "Wang", "finding": "no_fault_found"},
        )
    )
    assert (resolved["state"], resolved["finding"]) == ("resolved", "no_fault_found")
    with runtime.database.read() as s:
        (review,) = s.scalars(select(FindingReview)).all()
        assert (review.ticket_id, review.verdict, review.model, review.device_id) == (
            ticket_id,
            "no_fault_found",
            "water/water-001 v1",
            "water-001",
        )
        assert (review.window_start, review.window_end) == (at(WINDOW[0]), at(WINDOW[1]))
        said = findings.feedback(s)
    assert said.normal == {("estate-1", "water", "water-001"): [WINDOW]} and said.faulty == {}
    assert ok(client.get("/reports/anomaly-findings")) == {
        "models": [
            {"model": "water/water-001 v1", "system": "water", "confirmed": 0, "no_fault_found": 1}
        ],
        "device_types": [{"system": "water", "confirmed": 0, "no_fault_found": 1}],
    }
    # The next training: same period, the window (the day after it) taken in as normal.
    (after,) = [
        r
        for r in train(store, registry, devices, plan, now_ms=0, feedback=said)
        if r.key == "water"
    ]
    assert after.meta is not None
    window_rows = rows_in(store, WINDOW)
    assert window_rows > 300  # an hour of a row every 5 s, each with some of the gauges
    assert after.meta.confirmed_normal_rows == window_rows
    assert after.meta.training_rows == before.meta.training_rows + window_rows
    assert 1.0 < after.meta.threshold <= 1.5  # raised for the window, by at most the factor


def test_a_confirmed_fault_stays_out_of_training_and_reopening_withdraws_the_verdict(
    runtime: Runtime, tmp_path: Path
) -> None:
    store = runtime.ingest.store
    registry = ModelRegistry(tmp_path / "models")
    devices = [("estate-1", "water", "water-001")]
    plan = TrainingPlan(START_MS, START_MS + 2 * DAY_MS)  # the window lies inside the period
    (before,) = [r for r in train(store, registry, devices, plan, now_ms=0) if r.key == "water"]
    ticket_id = finding(runtime)
    client = authorized(TestClient(create_app(runtime)), runtime.database)
    with runtime.database.read() as s:
        pump = s.scalars(select(Asset).where(Asset.code == "PUMP-1")).one()
    repair = ok(
        client.post(
            "/tickets",
            json={
                "site_id": pump.site_id,
                "asset_id": pump.id,
                "type": "repair",
                "channel": "api",
                "title": "pump noise",
            },
        ),
        201,
    )
    not_predictive = client.post(
        f"/tickets/{repair['id']}/transitions",
        json={"action": "cancel", "actor": "Wang", "note": "x", "finding": "confirmed"},
    )
    assert not_predictive.status_code == 422
    assert not_predictive.json()["detail"][0]["loc"] == ["body", "finding"]
    assert ok(resolve(client, ticket_id, finding="confirmed"))["finding"] == "confirmed"
    with runtime.database.read() as s:
        said = findings.feedback(s)
    assert said.faulty == {("estate-1", "water", "water-001"): [WINDOW]} and said.normal == {}
    (after,) = [
        r
        for r in train(store, registry, devices, plan, now_ms=0, feedback=said)
        if r.key == "water"
    ]
    assert before.meta is not None and after.meta is not None
    # the window's rows are never fitted on (of the rest, the newest fifth is held out)
    total, window_rows = rows_in(store, (plan.start_ms, plan.end_ms)), rows_in(store, WINDOW)
    assert before.meta.training_rows == int(total * 0.8)
    assert after.meta.training_rows == int((total - window_rows) * 0.8)
    assert after.meta.confirmed_normal_rows == 0
    reopened = ok(
        client.post(
            f"/tickets/{ticket_id}/transitions",
            json={"action": "reopen", "actor": "sup-chen", "note": "pump still noisy"},
        )
    )
    assert reopened["finding"] is None
    with runtime.database.read() as s:
        assert s.scalars(select(FindingReview)).all() == []
    assert ok(client.get("/reports/anomaly-findings")) == {"models": [], "device_types": []}


def test_a_low_rating_that_reopens_the_work_withdraws_the_verdict(runtime: Runtime) -> None:
    ticket_id = finding(runtime)
    client = authorized(TestClient(create_app(runtime)), runtime.database)
    assert ok(resolve(client, ticket_id, finding="no_fault_found"))["finding"] == "no_fault_found"
    with runtime.database.read() as s:
        assert [r.verdict for r in s.scalars(select(FindingReview))] == ["no_fault_found"]
    rated = ok(
        client.post(
            f"/tickets/{ticket_id}/rating",
            json={"rating": 1, "comment": "the pump still howls", "actor": "sup-chen"},
        )
    )
    assert (rated["state"], rated["finding"]) == ("reopened", None)
    with runtime.database.read() as s:
        assert s.scalars(select(FindingReview)).all() == []
        assert findings.feedback(s).normal == {}
    assert ok(client.get("/reports/anomaly-findings")) == {"models": [], "device_types": []}

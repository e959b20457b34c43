"""Plans, checklist results and PM compliance over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from maintenance.notifications.notifier import CollectingNotifier
from maintenance.plans.generation import generate
from maintenance.storage.db import Database
from tests.helpers import authorized
from tests.integration.api.test_tickets_api import make_runtime, ok, seed

NOW = datetime(2027, 1, 10, 2, tzinfo=UTC)


@pytest.fixture
def client(database: Database, tmp_path: Path) -> Iterator[TestClient]:
    runtime = make_runtime(database, tmp_path)
    app = create_app(runtime)
    app.state.clock = lambda: NOW
    app.state.test_database = database
    yield authorized(TestClient(app), runtime.database)
    runtime.stop()


def test_plan_preview_generation_results_and_compliance(client: TestClient) -> None:
    ids = seed(client)
    plan = ok(
        client.post(
            "/plans",
            json={
                "name": "Lift monthly",
                "site_id": ids["site"],
                "system": "elevator",
                "every": 1,
                "unit": "months",
                "starts_on": "2027-01-31",
            },
        ),
        201,
    )
    assert plan["checklist"][0]["key"] == "doors"
    preview = ok(client.get(f"/plans/{plan['id']}/preview", params={"days": 120}))
    assert [p["day"] for p in preview] == ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"]
    assert (
        client.post(
            "/plans", json={"name": "x", "rrule": "FREQ=NEVER", "starts_on": "2027-01-01"}
        ).status_code
        == 422
    )
    database: Database = client.app.state.test_database  # type: ignore[attr-defined]
    with database.transaction() as s:
        result = generate(s, now=datetime(2027, 1, 28, tzinfo=UTC), notifier=CollectingNotifier())
    assert result.created == 1
    page = ok(client.get("/tickets", params={"type": "inspection"}))
    inspection = page["items"][0]
    assert inspection["resolution_due"] == "2027-02-01T00:00:00Z"  # end of Jan 31, UTC site
    keys = [item["key"] for item in inspection["checklist"]]
    incomplete = client.post(
        f"/tickets/{inspection['id']}/checklist",
        json={"actor": "Wang", "items": [{"key": "doors", "result": "pass"}]},
    )
    assert incomplete.status_code == 422 and "no result for" in incomplete.text
    results = [{"key": k, "result": "pass", "reading": 1.0} for k in keys]
    results[0] = {"key": "doors", "result": "fail", "notes": "door reopens late"}
    repairs = ok(
        client.post(
            f"/tickets/{inspection['id']}/checklist", json={"actor": "Wang", "items": results}
        ),
        201,
    )
    assert len(repairs) == 1
    assert repairs[0]["type"] == "repair" and repairs[0]["parent_ticket_id"] == inspection["id"]
    assert repairs[0]["asset_id"] == ids["lift"] and repairs[0]["state"] == "assigned"
    path = f"/tickets/{inspection['id']}/transitions"
    for body in (
        {"action": "accept", "actor": "Wang", "committed_at": "2027-01-31T02:00:00Z"},
        {"action": "start", "actor": "Wang"},
        {"action": "resolve", "actor": "Wang"},
    ):
        ok(client.post(path, json=body))
    report = ok(
        client.get(
            "/reports/pm-compliance",
            params={"start": "2027-01-01T00:00:00Z", "end": "2027-02-01T00:00:01Z"},
        )
    )
    assert report == [
        {
            "site_id": ids["site"],
            "system": "elevator",
            "due": 1,
            "on_time": 1,
            "late": 0,
            "open_overdue": 0,
            "early": 0,
            "share_on_time": 1.0,
        }
    ]
    paused = ok(
        client.put(
            f"/plans/{plan['id']}",
            json={
                "name": "Lift monthly",
                "site_id": ids["site"],
                "system": "elevator",
                "starts_on": "2027-01-31",
                "paused": True,
            },
        )
    )
    assert paused["paused"] is True
    with database.transaction() as s:
        assert (
            generate(s, now=datetime(2027, 6, 1, tzinfo=UTC), notifier=CollectingNotifier()).created
            == 0
        )


def test_a_site_disables_enables_and_edits_a_shipped_programme(client: TestClient) -> None:
    from maintenance.plans.defaults import ensure_default_plans

    ids = seed(client)
    database: Database = client.app.state.test_database  # type: ignore[attr-defined]
    with database.transaction() as s:
        ensure_default_plans(s, starts_on=date(2027, 1, 1), now=NOW)
    path = f"/sites/{ids['site']}/programmes"
    listed = {p["name"]: p for p in ok(client.get(path))}
    assert len(listed) == 17
    half = listed["Elevator maintenance: half-monthly"]
    assert (half["enabled"], half["own_plan_id"], half["unit"], half["every"]) == (
        True,
        None,
        "half_months",
        1,
    )
    assert (half["early_days"], half["late_days"], half["regulated"]) == (3, 3, True)
    assert half["standard"] == "TSG T5002-2017 · Annex A, A-1 · 电梯维护保养规则"
    chinese = ok(client.get(path, headers={"Accept-Language": "zh-CN"}))
    assert "电梯维护保养：半月" in {p["name"] for p in chinese}

    off = ok(client.put(f"{path}/{half['plan_id']}", json={"enabled": False}))
    assert (off["paused"], off["site_id"], off["overrides_id"]) == (
        True,
        ids["site"],
        half["plan_id"],
    )
    assert off["active_from"] == NOW.date().isoformat()

    def half_monthly_titles(now: datetime) -> list[str]:
        with database.transaction() as s:
            generate(s, now=now, notifier=CollectingNotifier())
        page = ok(client.get("/tickets", params={"type": "inspection", "limit": 100}))
        return sorted(t["title"] for t in page["items"] if "half-monthly" in t["title"])

    assert half_monthly_titles(datetime(2027, 1, 12, tzinfo=UTC)) == []  # Jan 16: disabled
    on = ok(client.put(f"{path}/{half['plan_id']}", json={"enabled": True, "late_days": 5}))
    assert (on["id"], on["paused"], on["late_days"]) == (off["id"], False, 5)
    titles = half_monthly_titles(datetime(2027, 1, 12, tzinfo=UTC))
    assert titles == ["Elevator maintenance: half-monthly · LIFT-A1 @ A / 1 / lobby (2027-01-16)"]
    page = ok(client.get("/tickets", params={"type": "inspection", "limit": 100}))
    (ticket,) = [t for t in page["items"] if "half-monthly" in t["title"]]
    assert ticket["resolution_due"] == "2027-01-22T00:00:00Z"  # the end of Jan 16 + 5 days, UTC
    again = {p["name"]: p for p in ok(client.get(path))}
    assert again["Elevator maintenance: half-monthly"]["own_plan_id"] == off["id"]

    bad = client.put(f"{path}/{half['plan_id']}", json={"every": 0})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "every"]
    own = client.put(f"{path}/{off['id']}", json={"enabled": True})
    assert own.status_code == 422 and "plan_id" in own.text
    assert client.get("/sites/999/programmes").status_code == 404
    # the site's lightning risk class picks its lightning protection programme
    risky = ok(client.put(f"/sites/{ids['site']}/risk-class", json={"risk_class": "hazardous"}))
    assert risky["risk_class"] == "hazardous"
    wrong = client.put(f"/sites/{ids['site']}/risk-class", json={"risk_class": "high"})
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["body", "risk_class"]

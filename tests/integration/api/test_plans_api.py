"""Plans, checklist results and PM compliance over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
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

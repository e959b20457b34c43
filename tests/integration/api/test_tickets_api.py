"""The work-order HTTP API, on SQLite and PostgreSQL; concurrency proven on PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.main import create_app
from api.runtime import Runtime
from api.settings import Settings
from maintenance.flows import intake
from maintenance.notifications.notifier import CollectingNotifier
from maintenance.scope import EVERYTHING
from maintenance.storage.db import Database
from maintenance.vocabulary import Channel, TicketState, TicketType
from maintenance.work_orders import queries
from maintenance.work_orders.lifecycle import allowed_actions
from maintenance.work_orders.schemas import TicketCreate
from tests.helpers import api_key, authorized
from tests.ledger import NOW
from tests.servers import free_port

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def make_runtime(database: Database, tmp_path: Path) -> Runtime:
    """The service on the test database; the shipped plans stay out of these tests' tickets."""
    settings = Settings(
        plan_generation=False,
        state_dir=tmp_path / "state",
        embedded_mqtt_port=free_port(),
        demo_fleet=False,
        database_url=database.engine.url.render_as_string(hide_password=False),
    )
    runtime = Runtime(settings)
    runtime.start()
    return runtime


@pytest.fixture
def client(database: Database, tmp_path: Path) -> Iterator[TestClient]:
    runtime = make_runtime(database, tmp_path)
    app = create_app(runtime)
    app.state.clock = lambda: NOW
    yield authorized(TestClient(app), runtime.database)
    runtime.stop()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def seed(client: TestClient) -> dict[str, int]:
    site = ok(
        client.post(
            "/sites", json={"code": "estate-1", "name": "Riverside", "supervisor": "sup-chen"}
        ),
        201,
    )
    room = ok(
        client.post(
            "/locations",
            json={"site_id": site["id"], "building": "A", "floor": "1", "room": "lobby"},
        ),
        201,
    )
    lift = ok(
        client.post(
            "/assets",
            json={
                "site_id": site["id"],
                "code": "LIFT-A1",
                "system": "elevator",
                "type": "traction",
                "location_id": room["id"],
                "device_ids": ["elevator-001"],
            },
        ),
        201,
    )
    tech = ok(
        client.post(
            "/technicians", json={"name": "Wang", "skills": ["elevator"], "site_ids": [site["id"]]}
        ),
        201,
    )
    return {"site": site["id"], "lift": lift["id"], "tech": tech["id"], "room": room["id"]}


def test_a_ticket_through_its_whole_life_over_http(client: TestClient) -> None:
    ids = seed(client)
    ticket = ok(
        client.post(
            "/tickets",
            json={
                "site_id": ids["site"],
                "type": "repair",
                "channel": "wechat",
                "title": "door slow",
                "asset_id": ids["lift"],
                "requester": "unit 1203",
            },
        ),
        201,
    )
    assert ticket["state"] == "assigned" and ticket["assignee_id"] == ids["tech"]
    assert ticket["allowed_actions"] == ["assign", "accept", "cancel"]
    path = f"/tickets/{ticket['id']}"
    refused = client.post(f"{path}/transitions", json={"action": "close", "actor": "x"})
    assert refused.status_code == 409
    assert refused.json()["state"] == "assigned"
    assert refused.json()["allowed"] == ["assign", "accept", "cancel"]
    for body in (
        {"action": "accept", "actor": "Wang", "committed_at": "2026-11-23T11:00:00Z"},
        {"action": "start", "actor": "Wang"},
        {"action": "resolve", "actor": "Wang", "note": "new door motor"},
    ):
        ok(client.post(f"{path}/transitions", json=body))
    photo = ok(
        client.post(
            f"{path}/attachments",
            files={"file": ("电梯_照片.png", PNG, "image/png")},  # as a phone names it
            data={"actor": "Wang"},
        ),
        201,
    )
    assert photo["filename"] == "电梯_照片.png"
    fetched = client.get(f"/attachments/{photo['id']}")
    assert fetched.content == PNG and fetched.headers["content-type"] == "image/png"
    assert fetched.headers["content-disposition"].endswith(
        "filename*=UTF-8''%E7%94%B5%E6%A2%AF_%E7%85%A7%E7%89%87.png"
    )
    rated = ok(client.post(f"{path}/rating", json={"rating": 1, "comment": "still slow"}))
    assert rated["state"] == "reopened"
    audit = ok(client.get(f"{path}/audit"))
    assert [e["action"] for e in audit] == [
        "create",
        "assign",
        "accept",
        "start",
        "resolve",
        "attach",
        "rate",
        "reopen",
    ]
    assert audit[2]["changes"]["state"] == ["assigned", "accepted"]
    history = ok(client.get(f"/assets/{ids['lift']}/history"))
    assert [t["id"] for t in history] == [ticket["id"]]


def test_bad_input_answers_422_with_the_field_path_and_unknown_ids_404(
    client: TestClient,
) -> None:
    ids = seed(client)
    missing = client.post(
        "/tickets",
        json={"site_id": ids["site"], "type": "repair", "channel": "fax", "asset_id": ids["lift"]},
    )
    assert missing.status_code == 422
    paths = {tuple(e["loc"]) for e in missing.json()["detail"]}
    assert paths == {("body", "channel"), ("body", "title")}
    complaint = client.post(
        "/tickets",
        json={"site_id": ids["site"], "type": "complaint", "channel": "app", "title": "noise"},
    )
    assert complaint.status_code == 422
    assert complaint.json()["detail"][0]["loc"] == ["body", "in_scope"]
    assert client.get("/tickets/999").status_code == 404
    assert client.get("/assets/999").json()["kind"] == "asset"
    assert (
        client.post(
            "/tickets",
            json={"site_id": 77, "type": "repair", "channel": "app", "title": "x", "asset_id": 1},
        ).status_code
        == 404
    )
    ticket = ok(
        client.post(
            "/tickets",
            json={
                "site_id": ids["site"],
                "type": "repair",
                "channel": "app",
                "title": "x",
                "asset_id": ids["lift"],
            },
        ),
        201,
    )
    text = client.post(
        f"/tickets/{ticket['id']}/attachments",
        files={"file": ("evil.png", b"MZ\x90\x00 not an image", "image/png")},
    )
    assert text.status_code == 422 and text.json()["detail"][0]["loc"] == ["body", "file"]


def test_filters_and_pagination(client: TestClient) -> None:
    ids = seed(client)
    created = [
        ok(
            client.post(
                "/tickets",
                json={
                    "site_id": ids["site"],
                    "type": "repair",
                    "channel": "app",
                    "title": f"t{i}",
                    "asset_id": ids["lift"],
                    "priority": "urgent" if i % 2 else "normal",
                },
            ),
            201,
        )["id"]
        for i in range(5)
    ]
    page = ok(
        client.get(
            "/tickets",
            params={"site_id": ids["site"], "priority": "normal", "state": "assigned", "limit": 2},
        )
    )
    assert page["total"] == 3
    assert [t["id"] for t in page["items"]] == [created[4], created[2]]
    assert ok(client.get("/tickets", params={"sla": "breached"}))["total"] == 0
    # the list's fast path answers exactly what the single-ticket read answers
    assert page["items"][0] == ok(client.get(f"/tickets/{created[4]}"))
    assert client.get("/tickets", params={"state": "dreaming"}).status_code == 422


def test_csv_import_reports_bad_rows_and_keeps_the_good_ones(client: TestClient) -> None:
    seed(client)
    csv_text = (
        "site_code,code,name,system,type,install_date,building,floor,device_ids\n"
        "estate-1,PUMP-1,Booster 1,water,booster pump,2020-01-31,B,B1,water-001\n"
        "estate-1,PUMP-2,Booster 2,steam,booster pump,,B,B1,\n"
        "nowhere,CAM-9,,camera,dome,,,,\n"
        "estate-1,CAM-1,Gate cam,camera,dome,31/12/2020,,,\n"
        "estate-1,CAM-2,Gate cam 2,camera,dome,,,,elevator-001\n"
        "estate-1,LIFT-A1,Lift renamed,elevator,traction,,A,1,elevator-001\n"
    )
    report = ok(
        client.post("/assets/import", content=csv_text, headers={"content-type": "text/csv"})
    )
    assert (report["created"], report["updated"]) == (1, 1)
    assert [(r["line"], r["field"]) for r in report["rejected"]] == [
        (3, "system"),
        (4, "site_code"),
        (5, "install_date"),
        (6, "device_ids"),
    ]
    exported = client.get("/assets.csv").text.splitlines()
    assert exported[0].startswith("site_code,code,name,system")
    assert [line.split(",")[1] for line in exported[1:]] == ["LIFT-A1", "PUMP-1"]
    assert "Lift renamed" in exported[1] and exported[2].endswith("water-001,")
    # the lift's certificate date (its authority inspection reminder) in and out of the ledger;
    # a file without the column leaves it as it was
    dated = (
        "site_code,code,system,type,inspection_due\nestate-1,LIFT-A1,elevator,traction,2027-06-15\n"
    )
    csv_headers = {"content-type": "text/csv"}
    assert ok(client.post("/assets/import", content=dated, headers=csv_headers))["updated"] == 1
    undated = "site_code,code,system,type\nestate-1,LIFT-A1,elevator,traction\n"
    assert ok(client.post("/assets/import", content=undated, headers=csv_headers))["updated"] == 1
    assert client.get("/assets.csv").text.splitlines()[1].endswith(",2027-06-15")


def test_two_technicians_accepting_at_once_exactly_one_wins(
    pg_database: Database, tmp_path: Path
) -> None:
    runtime = make_runtime(pg_database, tmp_path)
    app = create_app(runtime)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", workers=1)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    base = f"http://127.0.0.1:{port}"
    key = {"X-API-Key": api_key(pg_database)}
    try:
        with httpx.Client(base_url=base, headers=key) as setup:
            ids = seed(setup)  # type: ignore[arg-type]
            ok(
                setup.post(
                    "/technicians",
                    json={"name": "Li", "skills": ["elevator"], "site_ids": [ids["site"]]},
                ),
                201,
            )
            results: list[int] = []
            for _ in range(10):
                ticket = ok(
                    setup.post(
                        "/tickets",
                        json={
                            "site_id": ids["site"],
                            "type": "repair",
                            "channel": "app",
                            "title": "x",
                            "asset_id": ids["lift"],
                        },
                    ),
                    201,
                )
                barrier = threading.Barrier(2)

                def accept(
                    who: str, ticket_id: int = ticket["id"], barrier: threading.Barrier = barrier
                ) -> None:
                    with httpx.Client(base_url=base, headers=key) as mine:
                        barrier.wait()
                        results.append(
                            mine.post(
                                f"/tickets/{ticket_id}/transitions",
                                json={
                                    "action": "accept",
                                    "actor": who,
                                    "committed_at": "2026-11-23T12:00:00Z",
                                },
                            ).status_code
                        )

                racers = [threading.Thread(target=accept, args=(w,)) for w in ("Wang", "Li")]
                for r in racers:
                    r.start()
                for r in racers:
                    r.join()
                audit = ok(setup.get(f"/tickets/{ticket['id']}/audit"))
                assert [e["action"] for e in audit].count("accept") == 1
            assert sorted(results) == [200] * 10 + [409] * 10
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        runtime.stop()


def test_a_batch_is_dispatched_emergencies_first_and_refused_whole_on_a_bad_item(
    client: TestClient,
) -> None:
    ids = seed(client)
    ok(
        client.post(
            "/technicians", json={"name": "Li", "skills": ["elevator"], "site_ids": [ids["site"]]}
        ),
        201,
    )
    item = {
        "site_id": ids["site"],
        "type": "repair",
        "channel": "api",
        "title": "a",
        "asset_id": ids["lift"],
    }
    system = client.post("/tickets/batch", json={"items": [item, {**item, "channel": "alarm"}]})
    assert system.status_code == 422
    assert system.json()["detail"][0]["loc"] == ["body", "items", 1, "channel"]
    refused = client.post("/tickets/batch", json={"items": [item, {**item, "asset_id": None}]})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "items", 1, "asset_id"]
    assert ok(client.get("/tickets"))["total"] == 0
    batch = ok(
        client.post(
            "/tickets/batch",
            json={
                "items": [
                    {**item, "priority": "low"},
                    {**item, "priority": "emergency"},
                    {**item, "priority": "normal"},
                ]
            },
        ),
        201,
    )
    assert [t["state"] for t in batch] == ["assigned"] * 3
    emergency = batch[1]
    assert "workload 0 open ticket(s)" in emergency["assignment_reason"]
    # the emergency went first; the other two follow by workload
    assert len({t["assignee_id"] for t in batch}) == 2


def test_site_sla_policies_over_http(client: TestClient) -> None:
    ids = seed(client)
    policy = {
        "site_id": ids["site"],
        "ticket_type": "repair",
        "response_minutes": 120,
        "resolution_minutes": 600,
    }
    first = ok(client.put("/sla-policies", json=policy))
    again = ok(client.put("/sla-policies", json={**policy, "response_minutes": 90}))
    assert again["id"] == first["id"] and again["response_minutes"] == 90
    assert len(ok(client.get("/sla-policies", params={"site_id": ids["site"]}))) == 1
    ticket = ok(
        client.post(
            "/tickets",
            json={
                "site_id": ids["site"],
                "type": "repair",
                "channel": "app",
                "title": "x",
                "asset_id": ids["lift"],
            },
        ),
        201,
    )
    assert ticket["response_due"] == "2026-11-23T10:30:00Z"
    assert (
        client.put("/sla-policies", json={"site_id": 99, "response_minutes": 5}).status_code == 404
    )
    bad = client.put("/sla-policies", json={"response_minutes": 0})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "response_minutes"]


def test_the_board_fast_path_answers_exactly_what_the_orm_path_does(
    client: TestClient, database: Database
) -> None:
    ids = seed(client)
    with database.transaction() as s:  # as the schedule files them: checklists are its own
        intake.create_many(
            s,
            [
                TicketCreate(
                    site_id=ids["site"],
                    type=TicketType.inspection,
                    channel=Channel.schedule,
                    title=title,
                    asset_id=ids["lift"],
                    checklist=[{"item": "ropes", "ok": None}],
                )
                for title in ("a", "b", "c")
            ],
            actor="schedule",
            now=NOW,
            notifier=CollectingNotifier(),
        )
    filters = queries.TicketFilter(
        site_id=ids["site"], type=TicketType.inspection, scope=EVERYTHING
    )
    with database.read() as s:
        rows, total = queries.list_rows(s, filters, now=NOW, limit=2)
    expected = orjson.loads(orjson.dumps(rows, option=orjson.OPT_UTC_Z))
    params = {"site_id": ids["site"], "type": "inspection", "limit": 2}
    answer = ok(client.get("/tickets", params=params))
    assert answer["total"] == total == 3
    items = answer["items"]
    assert [{k: v for k, v in item.items() if k != "allowed_actions"} for item in items] == expected
    assert items[0]["created_at"].endswith("Z") and items[0]["checklist"] == [
        {"item": "ropes", "ok": None}
    ]
    assert items[0]["allowed_actions"] == [
        a.value for a in allowed_actions(TicketState(items[0]["state"]))
    ]
    past_the_end = ok(client.get("/tickets", params={**params, "offset": 10}))
    assert (past_the_end["items"], past_the_end["total"]) == ([], 3)

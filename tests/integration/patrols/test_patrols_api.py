"""Patrol rounds over HTTP on SQLite and PostgreSQL: an hourly round walked for three hours
(a late point with an abnormal observation, a missed point, a complete run, a missed run),
what the report says of it, and the inputs a careless or hostile caller sends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from maintenance.accounts import service as users
from maintenance.patrols import schedule
from maintenance.storage.db import Database, utcnow
from tests.helpers import api_key, authorized
from tests.integration.api.test_tickets_api import make_runtime, ok

START = datetime(2027, 1, 10, 0, 10, tzinfo=UTC)  # 08:10 in Shanghai
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def at(self, hour: int, minute: int) -> None:
        self.now = datetime(2027, 1, 10, hour, minute, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(database: Database, tmp_path: Path, clock: Clock) -> Iterator[TestClient]:
    runtime = make_runtime(database, tmp_path)
    app = create_app(runtime)
    app.state.clock = clock
    yield authorized(TestClient(app), runtime.database)
    runtime.stop()


def estate(client: TestClient) -> dict[str, Any]:
    site = ok(
        client.post(
            "/sites", json={"code": "e1", "name": "Riverside", "timezone": "Asia/Shanghai"}
        ),
        201,
    )
    places = [
        ok(client.post("/locations", json={"site_id": site["id"], "building": b}), 201)["id"]
        for b in ("North gate", "Car park B2", "Pump room")
    ]
    return {"site": site["id"], "places": places}


def hourly(client: TestClient, ids: dict[str, Any]) -> dict[str, Any]:
    body = {
        "site_id": ids["site"],
        "name": "Security patrol",
        "every": 1,
        "unit": "hours",
        "starts_on": "2027-01-10",
        "start_time": "08:00",
        "window_minutes": 45,
        "grace_minutes": 15,
        "points": [{"location_id": p} for p in ids["places"]],
    }
    return ok(client.post("/patrols/rounds", json=body), 201)  # type: ignore[no-any-return]


def check_in(client: TestClient, code: str, **form: Any) -> Any:
    files = {"photo": ("gate.png", PNG, "image/png")} if form.pop("photo", False) else None
    return client.post("/patrols/check-ins", data={"code": code, **form}, files=files)


def database_of(client: TestClient) -> Database:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    return database


def watch(client: TestClient, clock: Clock) -> schedule.WatchResult:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    with database.transaction() as s:
        return schedule.watch(s, clock.now)


def test_an_hourly_round_walked_for_three_hours(client: TestClient, clock: Clock) -> None:
    ids = estate(client)
    made = hourly(client, ids)
    codes = [p["code"] for p in made["points"]]
    assert [p["name"] for p in made["points"]] == ["North gate", "Car park B2", "Pump room"]
    assert [p["position"] for p in made["points"]] == [1, 2, 3]
    assert len(set(codes)) == 3 and all(len(c) == 6 for c in codes)

    first = ok(check_in(client, codes[0].lower(), method="scan"), 201)  # a typed code's case
    assert (first["late"], first["method"], first["abnormal"]) == (False, "scan", False)
    clock.at(0, 50)  # after the 45 minutes: late, and something is wrong
    second = ok(
        check_in(client, codes[1], observation="Fire door propped open", abnormal="true", photo=1),
        201,
    )
    phone_photo = PNG + b"\0" * (3 * 1024 * 1024)  # a phone camera's few megabytes
    assert (second["late"], second["abnormal"], second["has_photo"]) == (True, True, True)
    repair = ok(client.get(f"/tickets/{second['ticket_id']}"))
    assert (repair["type"], repair["location_id"], repair["site_id"]) == (
        "repair",
        ids["places"][1],
        ids["site"],
    )
    assert repair["title"] == "Patrol Security patrol: Car park B2: Fire door propped open"
    assert repair["source_ref"] == f"patrol:{second['run_id']}:{made['points'][1]['id']}"
    assert client.get(f"/patrols/check-ins/{second['id']}/photo").content == PNG
    page = client.get(
        f"/console/tickets/{second['ticket_id']}", headers={"Accept-Language": "zh-CN"}
    )
    assert "巡更 Security patrol：Car park B2：Fire door propped open" in page.text  # its title
    site = ids["site"]
    assert f"项目 {site} 无在岗技术员（0 人负责该项目，其中 0 人具备技能，均不在岗）" in page.text
    files = ok(client.get(f"/tickets/{second['ticket_id']}/audit"))
    assert [e["action"] for e in files].count("attach") == 1

    clock.at(1, 5)  # the first run's time is up; the second has started
    assert watch(client, clock) == schedule.WatchResult(opened=1, closed=1, points_missed=1)
    run1 = ok(client.get(f"/patrols/runs/{first['run_id']}"))
    assert (run1["status"], run1["points_due"], run1["points_missed"]) == ("incomplete", 3, 1)
    assert [c["point_id"] for c in run1["check_ins"]] == [p["id"] for p in made["points"][:2]]

    big = client.post(
        "/patrols/check-ins",
        data={"code": codes[2]},
        files={"photo": ("IMG_0001.png", phone_photo, "image/png")},
    )
    assert big.status_code == 201, big.text[:200]
    for code in codes[:2]:  # any order; the last one closes the run
        ok(check_in(client, code), 201)
    runs = ok(client.get("/patrols/runs", params={"round_id": made["id"]}))
    assert [(r["status"], r["points_missed"]) for r in runs] == [
        ("completed", 0),
        ("incomplete", 1),
    ]
    clock.at(3, 1)  # nobody walked the 10:00 run
    assert watch(client, clock) == schedule.WatchResult(opened=2, closed=1, points_missed=3)
    report = ok(
        client.get(
            "/reports/patrols",
            params={"since": "2027-01-10T00:00:00Z", "until": "2027-01-10T04:00:00Z"},
        )
    )
    assert report["rounds"] == [
        {
            "round_id": made["id"],
            "site_id": ids["site"],
            "name": "Security patrol",
            "runs": 4,
            "open": 1,
            "completed": 1,
            "late": 0,
            "incomplete": 1,
            "missed": 1,
            "points_due": 12,
            "points_missed": 4,
            "abnormal": 1,
        }
    ]
    assert [(m["starts_at"], m["point"]) for m in report["missed_points"]] == [
        ("2027-01-10T00:00:00Z", "Pump room"),
        ("2027-01-10T02:00:00Z", "North gate"),
        ("2027-01-10T02:00:00Z", "Car park B2"),
        ("2027-01-10T02:00:00Z", "Pump room"),
    ]
    assert watch(client, clock) == schedule.WatchResult(opened=0, closed=0, points_missed=0)


def test_what_a_careless_or_hostile_caller_sends(client: TestClient, clock: Clock) -> None:
    ids = estate(client)
    made = hourly(client, ids)
    code = made["points"][0]["code"]
    other = ok(client.post("/sites", json={"code": "e2", "name": "Hilltop"}), 201)
    elsewhere = ok(
        client.post("/locations", json={"site_id": other["id"], "building": "Gate"}), 201
    )
    body = {"site_id": ids["site"], "name": "x", "starts_on": "2027-01-10"}
    wrong_place = client.post(
        "/patrols/rounds", json={**body, "points": [{"location_id": elsewhere["id"]}]}
    )
    assert wrong_place.status_code == 422
    assert wrong_place.json()["detail"][0]["loc"] == ["body", "points", 0, "location_id"]
    overlapping = client.post(
        "/patrols/rounds",
        json={
            **body,
            "window_minutes": 50,
            "grace_minutes": 20,
            "points": [{"location_id": ids["places"][0]}],
        },
    )
    assert overlapping.status_code == 422
    assert overlapping.json()["detail"][0]["loc"] == ["body", "window_minutes"]
    bad_time = client.post(
        "/patrols/rounds",
        json={**body, "start_time": "24:00", "points": [{"location_id": ids["places"][0]}]},
    )
    assert bad_time.status_code == 422 and bad_time.json()["detail"][0]["loc"] == [
        "body",
        "start_time",
    ]

    for field, wrong in (
        ("starts_on", {"starts_on": "9999-12-31"}),  # its runs could not be computed
        ("name", {"name": "   "}),
        ("points", {"points": [{"location_id": ids["places"][0]}] * 2}),
    ):
        refused = client.post(
            "/patrols/rounds", json={**body, "points": [{"location_id": ids["places"][0]}], **wrong}
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"][:2] == ["body", field]
    sloppy = client.patch(f"/patrols/rounds/{made['id']}", json={"paused": "yes"})
    assert sloppy.status_code == 422 and sloppy.json()["detail"][0]["loc"] == ["body", "paused"]
    lone = {**body, "name": "\ud800", "points": [{"location_id": ids["places"][0]}]}
    broken = client.post(
        "/patrols/rounds",
        content=json.dumps(lone).encode(),  # JSON escapes the half pair; UTF-8 could not
        headers={"Content-Type": "application/json"},
    )
    assert broken.status_code == 422 and "surrogate" in broken.json()["detail"][0]["msg"]

    unknown = check_in(client, "ZZZZZZ")
    assert unknown.status_code == 404 and unknown.json()["kind"] == "patrol point"
    silent = check_in(client, code, abnormal="true", observation="  ")
    assert silent.status_code == 422 and silent.json()["detail"][0]["loc"] == [
        "body",
        "observation",
    ]
    ok(check_in(client, code, observation="门禁正常 ✓"), 201)
    twice = check_in(client, code)
    assert twice.status_code == 422 and twice.json()["detail"][0]["loc"] == ["body", "code"]
    not_a_photo = check_in(client, made["points"][1]["code"], observation="x", abnormal="true")
    assert not_a_photo.status_code == 201
    text_file = client.post(
        "/patrols/check-ins",
        data={"code": made["points"][2]["code"]},
        files={"photo": ("notes.txt", b"hello", "image/png")},
    )
    assert text_file.status_code == 422 and text_file.json()["detail"][0]["loc"] == [
        "body",
        "photo",
    ]
    runs = ok(client.get("/patrols/runs"))
    assert [len(r["check_ins"]) for r in runs] == [2]  # the refused one left nothing behind

    ok(client.patch(f"/patrols/rounds/{made['id']}", json={"paused": True}))
    paused = check_in(client, made["points"][2]["code"])
    assert paused.status_code == 422 and "paused" in paused.json()["detail"][0]["msg"]

    daily = ok(
        client.post(
            "/patrols/rounds",
            json={
                **body,
                "name": "Plant room",
                "unit": "days",
                "start_time": "09:00",
                "window_minutes": 60,
                "grace_minutes": 0,
                "points": [{"location_id": ids["places"][2]}],
            },
        ),
        201,
    )
    clock.at(3, 0)  # 11:00 in Shanghai: the 09:00 round closed at 10:00
    closed = check_in(client, daily["points"][0]["code"])
    assert closed.status_code == 422
    assert closed.json()["detail"][0]["msg"] == (
        "no run of 'Plant room' is open now; the next starts 2027-01-11T01:00:00+00:00"
    )

    page = client.get(
        f"/console/patrols/check-in/{daily['points'][0]['code']}",
        headers={"Accept-Language": "zh-CN"},
    )
    assert page.status_code == 200 and "Plant room" in page.text
    assert "本路线当前没有进行中的巡更；下一轮开始于 2027年1月11日 01:00:00 UTC。" in page.text
    with database_of(client).transaction() as s:
        desk, key = users.create_api_key(s, "shanghai-desk", "manager", now=utcnow())
    ok(client.put(f"/api-keys/{key.id}/sites", json={"site_ids": [ids["site"]]}))
    local = client.get(
        f"/console/patrols/check-in/{daily['points'][0]['code']}",
        headers={"Accept-Language": "zh-CN", "X-API-Key": desk},
    )  # a reader of the Shanghai estate only: its times in its zone
    assert "下一轮开始于 2027年1月11日 09:00:00 +0800。" in local.text
    unknown_page = client.get(
        "/console/patrols/check-in/NOSUCH", headers={"Accept-Language": "zh-CN"}
    )
    assert unknown_page.status_code == 404 and "巡更点" in unknown_page.text

    database: Database = client.app.state.database  # type: ignore[attr-defined]
    requester = client.post(
        "/patrols/check-ins",
        data={"code": code},
        headers={"X-API-Key": api_key(database, "requester")},
    )
    assert requester.status_code == 403
    technician = {"X-API-Key": api_key(database, "technician")}
    refused = client.post(
        "/patrols/rounds",
        json={**body, "points": [{"location_id": ids["places"][0]}]},
        headers=technician,
    )
    assert refused.status_code == 403
    seen = ok(client.get(f"/patrols/rounds/{made['id']}", headers=technician))
    assert seen["paused"] is True
    assert [p["code"] for p in seen["points"]] == ["", "", ""]  # a code proves being there
    assert [
        p["code"] for p in ok(client.get("/patrols/rounds", headers=technician))[0]["points"]
    ] == ["", "", ""]
    assert client.get("/patrols/rounds/999999").status_code == 404
    assert client.get("/patrols/runs/999999").status_code == 404
    assert client.get("/patrols/runs", params={"since": "2027-01-10T00:00:00"}).status_code == 422

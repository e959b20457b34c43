"""Sites and contractors in access control, as journeys on PostgreSQL (the ticket board's
driver-level query included) behind the API, a real uvicorn for the live feed, and the CLI:
a contractor company made, given a site's elevators, its technician and person; dispatch to
them; a site-scoped technician and manager; each sees exactly their objects, counts, reports
and live alarms, and is told that anything else is not there."""

from __future__ import annotations

import io
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.cli import main as facility
from api.main import create_app
from api.runtime import Runtime
from maintenance.alarms.lifecycle import AlarmState
from maintenance.alarms.models import Alarm, AlarmFlood, AlarmTransitionRecord
from maintenance.alarms.transitions import AlarmTransition
from maintenance.notifications.models import NotificationDelivery
from maintenance.storage.db import utcnow
from tests.helpers import quiet_service, serving
from tests.servers import Postgres

PASSWORD = "a long enough password"
PERIOD = {"start": "2026-01-01T00:00:00Z", "end": "2030-01-01T00:00:00Z"}


@dataclass
class Estate:
    runtime: Runtime
    client: TestClient
    ids: dict[str, int]
    people: dict[str, dict[str, str]]

    def get(self, who: str, path: str, **params: Any) -> Any:
        answer = self.client.get(path, params=params, headers=self.people[who])
        assert answer.status_code == 200, (who, path, answer.text)
        return answer.json()

    def status(self, who: str, method: str, path: str, body: Any = None) -> httpx.Response:
        answer: httpx.Response = self.client.request(
            method, path, json=body, headers=self.people[who]
        )
        return answer


def gone(kind: str, key: object) -> dict[str, str]:
    """The answer for an object that, for the caller, is not there."""
    return {"detail": f"{kind} {key} not found", "kind": kind, "id": str(key)}


def made(answer: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    data: dict[str, Any] = answer.json()
    return data


def _ledger(client: TestClient, admin: dict[str, str]) -> dict[str, int]:
    """Two estates; the first with a lift, a pump and an in-house technician, the second with a
    lift; Lift Co made and given the first estate's elevators by the API."""
    ids: dict[str, int] = {}
    for name, code in (("east", "east-1"), ("west", "west-2")):
        ids[name] = made(client.post("/sites", json={"code": code, "name": name}, headers=admin))[
            "id"
        ]
    for name, site, system, device in (
        ("lift", "east", "elevator", "lift-1"),
        ("pump", "east", "water", "pump-1"),
        ("west_lift", "west", "elevator", "lift-1"),
    ):
        body = {"site_id": ids[site], "code": name.upper(), "system": system, "type": system}
        ids[name] = made(
            client.post("/assets", json={**body, "device_ids": [device]}, headers=admin)
        )["id"]
    company = made(client.post("/contractors", json={"name": "Lift Co"}, headers=admin))
    ids["lift_co"] = company["id"]
    given = client.post(
        f"/contractors/{company['id']}/assets",
        json={"site_id": ids["east"], "system": "elevator"},
        headers=admin,
    )
    assert made(given, 200)["asset_ids"] == [ids["lift"]]
    for name, skills, sites, contractor in (
        ("wang", ["elevator", "water"], ["east"], None),
        ("zhou", ["elevator", "water"], ["east"], company["id"]),
        ("sun", ["elevator"], ["west"], None),
    ):
        body = {"name": name, "skills": skills, "site_ids": [ids[s] for s in sites]}
        ids[name] = made(
            client.post("/technicians", json={**body, "contractor_id": contractor}, headers=admin)
        )["id"]
    return ids


def _people(client: TestClient, admin: dict[str, str], ids: dict[str, int]) -> None:
    east = [ids["east"]]
    for name, role, extra in (
        ("zhou", "contractor", {"technician_id": ids["zhou"], "contractor_id": ids["lift_co"]}),
        ("wang", "technician", {"technician_id": ids["wang"], "site_ids": east}),
        ("qa", "manager", {"site_ids": east}),
        ("boss", "manager", {}),  # made without sites: every site, as accounts before scopes
        ("unit-1203", "requester", {"site_ids": east}),
    ):
        body = {"username": name, "password": PASSWORD, "role": role, **extra}
        made(client.post("/users", json=body, headers=admin))


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory, postgres_server: Postgres) -> Iterator[Estate]:
    url = postgres_server.create_database(f"s_{uuid.uuid4().hex[:12]}")
    state = tmp_path_factory.mktemp("scopes") / "state"
    with quiet_service(state, admin_password=PASSWORD, database_url=url) as runtime:
        client = TestClient(create_app(runtime))
        people: dict[str, dict[str, str]] = {}
        admin = {"Authorization": f"Bearer {_token(client, 'admin')}"}
        ids = _ledger(client, admin)
        _people(client, admin, ids)
        for name in ("admin", "zhou", "wang", "qa", "boss", "unit-1203"):
            people[name] = {"Authorization": f"Bearer {_token(client, name)}"}
        yield Estate(runtime, client, ids, people)


def _token(client: TestClient, name: str) -> str:
    answer = client.post("/auth/token", data={"username": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def _file(estate: Estate, who: str, site: str, asset: str | None, title: str) -> httpx.Response:
    body: dict[str, Any] = {"site_id": estate.ids[site], "type": "repair", "title": title}
    if asset is not None:
        body["asset_id"] = estate.ids[asset]
    if who != "unit-1203":
        body["channel"] = "front_desk"
    return estate.status(who, "POST", "/tickets", body)


def _alarm(estate: Estate, site: str, asset: str) -> int:
    with estate.runtime.database.transaction() as s:
        alarm = Alarm(
            site="east-1" if site == "east" else "west-2",
            system="elevator",
            device_id=f"dev-{uuid.uuid4().hex[:6]}",
            rule_id="stuck",
            site_id=estate.ids[site],
            asset_id=estate.ids[asset],
            severity="major",
            state=AlarmState.active_unacknowledged,
            raised_at=utcnow(),
            occurrences=1,
            values={},
            updated_at=utcnow(),
        )
        s.add(alarm)
        s.flush()
        return alarm.id


def test_a_contractor_sees_and_works_only_its_companys_assets(estate: Estate) -> None:
    lift = made(_file(estate, "unit-1203", "east", "lift", "lift stuck"))
    pump = made(_file(estate, "unit-1203", "east", "pump", "no water"))
    west = made(_file(estate, "admin", "west", "west_lift", "west lift"))
    # Dispatch: the company's asset to its technician, the others in house.
    assert (lift["assignee_id"], pump["assignee_id"]) == (estate.ids["zhou"], estate.ids["wang"])
    reason = estate.get("admin", f"/tickets/{lift['id']}")["assignment_reason"]
    assert reason.startswith(f"auto: contractor {estate.ids['lift_co']}'s skill elevator")
    assert west["assignee_id"] == estate.ids["sun"]
    me = estate.get("zhou", "/users/me")
    assert (me["role"], me["contractor_id"], me["site_ids"]) == (
        "contractor",
        estate.ids["lift_co"],
        None,
    )
    board = estate.get("zhou", "/tickets")
    assert ([t["id"] for t in board["items"]], board["total"]) == ([lift["id"]], 1)
    assert board["items"][0]["requester"] == ""  # like a technician: not who filed it
    for other in (pump, west):
        assert estate.status("zhou", "GET", f"/tickets/{other['id']}").status_code == 404
        comment = {"author": "x", "body": "mine?"}
        refused = estate.status("zhou", "POST", f"/tickets/{other['id']}/comments", comment)
        assert (refused.status_code, refused.json()) == (
            404,
            gone("ticket", other["id"]),
        )
    accept = {"action": "accept", "actor": "x", "committed_at": "2030-01-01T10:00:00Z"}
    accepted = estate.status("zhou", "POST", f"/tickets/{lift['id']}/transitions", accept)
    assert (accepted.status_code, accepted.json()["state"]) == (200, "accepted")
    # Filing outside: another company's or the in-house asset is not there; no asset, a 422.
    outside = _file(estate, "zhou", "east", "pump", "pump too")
    assert (outside.status_code, outside.json()) == (
        404,
        gone("asset", estate.ids["pump"]),
    )
    bare = _file(estate, "zhou", "east", None, "somewhere")
    assert bare.status_code == 422
    assert bare.json()["detail"][0]["loc"] == ["body", "asset_id"]
    # The company's technician takes only its assets; the control room may still send an
    # in-house technician to its lift.
    give = {"action": "assign", "actor": "x", "technician_id": estate.ids["zhou"]}
    wrong = estate.status("admin", "POST", f"/tickets/{pump['id']}/transitions", give)
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"] == ["body", "technician_id"]
    # Alarms, assets and technicians: the company's only.
    alarms = [_alarm(estate, "east", "lift"), _alarm(estate, "east", "pump")]
    listed = estate.get("zhou", "/alarms")
    assert ([a["id"] for a in listed["items"]], listed["total"]) == ([alarms[0]], 1)
    assert estate.status("zhou", "GET", f"/alarms/{alarms[1]}").status_code == 404
    assert [a["id"] for a in estate.get("zhou", "/assets")] == [estate.ids["lift"]]
    assert [t["id"] for t in estate.get("zhou", "/technicians")] == [estate.ids["zhou"]]


def test_plans_of_a_contractor_are_those_that_cover_its_assets(estate: Estate) -> None:
    def plan(system: str, site: str) -> int:
        body = {
            "name": f"{system} {site}",
            "site_id": estate.ids[site],
            "system": system,
            "every": 1,
            "unit": "months",
            "starts_on": "2027-01-01",
        }
        return int(made(estate.status("admin", "POST", "/plans", body))["id"])

    lifts, pumps, west = plan("elevator", "east"), plan("water", "east"), plan("elevator", "west")
    assert [p["id"] for p in estate.get("zhou", "/plans")] == [lifts]
    assert [p["id"] for p in estate.get("wang", "/plans")] == [lifts, pumps]
    assert [p["id"] for p in estate.get("admin", "/plans")] == [lifts, pumps, west]
    assert estate.status("zhou", "GET", f"/plans/{pumps}").status_code == 404
    preview = estate.get("wang", f"/plans/{lifts}/preview", days=40)
    assert {i["asset_id"] for i in preview} == {estate.ids["lift"]}
    # A site's manager plans for their sites only: another's is not there, every site's a 422.
    body = {"name": "x", "system": "water", "every": 1, "unit": "months", "starts_on": "2027-01-01"}
    everywhere = estate.status("qa", "POST", "/plans", body)
    assert everywhere.status_code == 422
    assert everywhere.json()["detail"][0]["loc"] == ["body", "site_id"]
    elsewhere = estate.status("qa", "POST", "/plans", {**body, "site_id": estate.ids["west"]})
    assert (elsewhere.status_code, elsewhere.json()) == (
        404,
        gone("site", estate.ids["west"]),
    )


def test_a_site_scoped_account_counts_only_its_sites_and_the_default_is_every_site(
    estate: Estate,
) -> None:
    west = made(_file(estate, "admin", "west", "west_lift", "west again"))
    east = made(_file(estate, "wang", "east", "pump", "east again"))
    everyone = estate.get("boss", "/tickets", limit=500)
    mine = estate.get("qa", "/tickets", limit=500)
    ids = {t["id"] for t in mine["items"]}
    assert east["id"] in ids and west["id"] not in ids
    assert mine["total"] == everyone["total"] - len(
        [t for t in everyone["items"] if t["site_id"] == estate.ids["west"]]
    )
    assert {t["site_id"] for t in mine["items"]} == {estate.ids["east"]}
    board = estate.client.get("/console/tickets", headers=estate.people["qa"])
    assert board.status_code == 200
    assert "east again" in board.text and "west again" not in board.text
    device = estate.client.get(
        "/console/devices/west-2/elevator/lift-1", headers=estate.people["qa"]
    )
    assert device.status_code == 404
    assert (
        estate.client.get(
            "/console/devices/east-1/water/pump-1", headers=estate.people["qa"]
        ).status_code
        == 200
    )
    body = {"site_id": estate.ids["east"], "type": "repair", "title": "x", "channel": "app"}
    foreign = estate.status("qa", "POST", "/tickets", {**body, "asset_id": estate.ids["west_lift"]})
    assert (foreign.status_code, foreign.json()) == (404, gone("asset", estate.ids["west_lift"]))
    give = {"action": "assign", "actor": "x", "technician_id": estate.ids["sun"]}
    far = estate.status("qa", "POST", f"/tickets/{east['id']}/transitions", give)
    assert (far.status_code, far.json()) == (404, gone("technician", estate.ids["sun"]))
    assert estate.get("boss", "/users/me")["site_ids"] is None
    assert [s["code"] for s in estate.get("qa", "/sites")] == ["east-1"]
    assert estate.status("qa", "GET", f"/sites/{estate.ids['west']}").status_code == 404
    # Reports: the tickets of the site only.
    quality = estate.get("qa", "/reports/service-quality", **PERIOD)
    whole = estate.get("boss", "/reports/service-quality", **PERIOD)
    kpis = {k["name"]: k["denominator"] for k in quality["kpis"]}
    every = {k["name"]: k["denominator"] for k in whole["kpis"]}
    assert kpis["complaint_rate"] < every["complaint_rate"]
    elsewhere = estate.client.get(
        "/reports/failures",
        params={**PERIOD, "site_id": estate.ids["west"]},
        headers=estate.people["qa"],
    )
    assert (elsewhere.status_code, elsewhere.json()) == (
        404,
        gone("site", estate.ids["west"]),
    )
    csv = estate.client.get("/assets.csv", headers=estate.people["qa"]).text
    assert "WEST_LIFT" not in csv and "PUMP" in csv
    imported = estate.client.post(
        "/assets/import",
        content="site_code,code,system,type\nwest-2,FAN-1,power,fan\neast-1,FAN-2,power,fan\n",
        headers={**estate.people["qa"], "Content-Type": "text/csv"},
    ).json()
    assert (imported["created"], imported["rejected"]) == (
        1,
        [{"line": 2, "field": "site_code", "reason": "unknown site 'west-2'"}],
    )
    # The scope changes on the account's next request.
    admin = estate.people["admin"]
    wang = next(u for u in estate.get("admin", "/users") if u["username"] == "wang")
    sites = {"site_ids": [estate.ids["west"]]}
    moved = made(estate.client.put(f"/users/{wang['id']}/sites", json=sites, headers=admin), 200)
    assert moved["site_ids"] == [estate.ids["west"]]
    assert {t["site_id"] for t in estate.get("wang", "/tickets")["items"]} == {estate.ids["west"]}
    back = {"site_ids": [estate.ids["east"]]}
    made(estate.client.put(f"/users/{wang['id']}/sites", json=back, headers=admin), 200)


def test_accounts_that_cannot_be_are_refused_on_the_field(estate: Estate) -> None:
    admin = estate.people["admin"]
    for body, field in (
        ({"role": "admin", "site_ids": [estate.ids["east"]]}, "site_ids"),
        ({"role": "contractor"}, "contractor_id"),
        ({"role": "engineer", "contractor_id": estate.ids["lift_co"]}, "contractor_id"),
        ({"role": "engineer", "site_ids": [999]}, "site_ids"),
    ):
        answer = estate.client.post(
            "/users",
            json={"username": f"x{uuid.uuid4().hex[:6]}", "password": PASSWORD, **body},
            headers=admin,
        )
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["detail"][0]["loc"] == ["body", field], body
    key = made(
        estate.client.post(
            "/api-keys",
            json={"name": "west-hotline", "role": "engineer", "site_ids": [estate.ids["west"]]},
            headers=admin,
        )
    )
    header = {"X-API-Key": key["key"]}
    seen = estate.client.get("/tickets", headers=header).json()["items"]
    assert {t["site_id"] for t in seen} == {estate.ids["west"]}
    assert estate.client.get("/metrics", headers=header).status_code == 403


def _feed(base: str, headers: dict[str, str], until: str) -> list[int]:
    """The alarm ids a live feed shows, until the one named `until`."""
    seen: list[int] = []
    with httpx.stream("GET", f"{base}/alarms/live", headers=headers, timeout=10) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: ") and '"alarm_id"' in line:
                alarm = json.loads(line[6:])
                seen.append(int(alarm["alarm_id"]))
                if alarm["note"] == until:
                    return seen
    raise AssertionError(seen)


def test_the_live_feed_shows_each_subscriber_only_their_scope(estate: Estate) -> None:
    ids = estate.ids
    sent = [
        (1, "west-2", ids["west_lift"], ""),
        (2, "east-1", ids["pump"], ""),
        (3, "east-1", ids["lift"], "last"),
    ]
    results: dict[str, list[int]] = {}
    with serving(create_app(estate.runtime)) as base:
        readers = [
            threading.Thread(
                target=lambda who=who: results.__setitem__(
                    who, _feed(base, estate.people[who], "last")
                )
            )
            for who in ("boss", "wang", "zhou")
        ]
        for reader in readers:
            reader.start()
        stream = estate.runtime.alarm_stream
        while len(stream._subscribers) < 3:  # the three listen before anything is sent
            threading.Event().wait(0.02)
        stream(
            [
                AlarmTransition(
                    alarm_id=n,
                    site=site,
                    system="elevator",
                    device_id="d",
                    rule_id="r",
                    asset_id=asset,
                    severity="major",
                    message="m",
                    action="raise",
                    from_state="normal",
                    to_state="active_unacknowledged",
                    at=datetime(2026, 12, 2, tzinfo=UTC),
                    actor="rules",
                    note=note,
                )
                for n, site, asset, note in sent
            ]
        )
        for reader in readers:
            reader.join(15)
    assert results == {"boss": [1, 2, 3], "wang": [2, 3], "zhou": [3]}


def _logs(estate: Estate) -> dict[str, int]:
    """An alarm with its trail, a flood and a delivery on each site."""
    now = utcnow()
    made: dict[str, int] = {}
    with estate.runtime.database.transaction() as s:
        for site, code, asset in (("east", "east-1", "lift"), ("west", "west-2", "west_lift")):
            alarm = Alarm(
                site=code,
                system="elevator",
                device_id=f"log-{site}",
                rule_id="stuck",
                site_id=estate.ids[site],
                asset_id=estate.ids[asset],
                severity="major",
                state=AlarmState.active_unacknowledged,
                raised_at=now,
                occurrences=1,
                values={},
                updated_at=now,
            )
            s.add(alarm)
            s.flush()
            made[site] = alarm.id
            s.add_all(
                [
                    AlarmTransitionRecord(
                        alarm_id=alarm.id,
                        site=code,
                        at=now,
                        actor="rules",
                        action="raise",
                        from_state="normal",
                        to_state="active_unacknowledged",
                    ),
                    AlarmFlood(site=code, started_at=now, alarm_count=30),
                    NotificationDelivery(
                        kind="alarm",
                        channel="email ops@example.com",
                        recipient="ops",
                        alarm_id=alarm.id,
                        message=f"{site} lift stuck",
                        created_at=now,
                        next_attempt_at=now,
                    ),
                ]
            )
    return made


def test_the_trails_floods_windows_policies_logs_and_companies_of_a_scope(estate: Estate) -> None:
    alarms = _logs(estate)
    admin = estate.people["admin"]
    for asset in ("lift", "west_lift"):
        window = {
            "asset_id": estate.ids[asset],
            "starts_at": "2030-01-01T08:00:00Z",
            "ends_at": "2030-01-01T10:00:00Z",
        }
        made(estate.client.post("/maintenance-windows", json=window, headers=admin))
    for site in (None, estate.ids["east"], estate.ids["west"]):
        policy = {"site_id": site, "ticket_type": "suggestion", "response_minutes": 600}
        made(estate.client.put("/sla-policies", json=policy, headers=admin), 200)
    lift_co = estate.ids["lift_co"]
    west = {"asset_ids": [estate.ids["west_lift"]]}
    made(estate.client.post(f"/contractors/{lift_co}/assets", json=west, headers=admin), 200)

    def seen(who: str) -> dict[str, Any]:
        return {
            "trail": {e["alarm_id"] for e in estate.get(who, "/alarm-events", action="raise")}
            & set(alarms.values()),
            "floods": sorted(f["site"] for f in estate.get(who, "/alarm-floods")),
            "windows": sorted(w["asset_id"] for w in estate.get(who, "/maintenance-windows")),
            "policies": sorted(
                (p["site_id"] or 0)
                for p in estate.get(who, "/sla-policies")
                if p["ticket_type"] == "suggestion"
            ),
            "log": sorted(
                d["message"] for d in estate.get(who, "/notifications") if d["kind"] == "alarm"
            ),
            "company": estate.get(who, f"/contractors/{lift_co}")["asset_ids"],
        }

    ids = estate.ids
    assert seen("boss") == {
        "trail": {alarms["east"], alarms["west"]},
        "floods": ["east-1", "west-2"],
        "windows": sorted([ids["lift"], ids["west_lift"]]),
        "policies": sorted([0, ids["east"], ids["west"]]),
        "log": ["east lift stuck", "west lift stuck"],
        "company": sorted([ids["lift"], ids["west_lift"]]),
    }
    assert seen("qa") == {
        "trail": {alarms["east"]},
        "floods": ["east-1"],
        "windows": [ids["lift"]],
        "policies": [0, ids["east"]],
        "log": ["east lift stuck"],
        "company": [ids["lift"]],
    }


def test_the_cli_makes_contractors_and_scopes_accounts_and_keys(
    estate: Estate,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = estate.runtime.settings
    monkeypatch.setenv("FACILITY_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("FACILITY_STATE_DIR", str(settings.state_dir))
    assert facility(["contractors", "create", "Pumps Ltd", "--contact", "021 1234"]) == 0
    assert (
        facility(["contractors", "assign", "Pumps Ltd", "--site", "east-1", "--system", "water"])
        == 0
    )
    assert facility(["contractors", "assign", "Pumps Ltd", "--site", "east-1"]) == 2  # no system
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PASSWORD}\n"))
    assert (
        facility(
            [
                "users",
                "create",
                "pumps-li",
                "--role",
                "contractor",
                "--contractor",
                "Pumps Ltd",
                "--site",
                "east-1",
                "--password-stdin",
            ]
        )
        == 0
    )
    assert (
        facility(["api-keys", "create", "west-bms", "--role", "engineer", "--site", "west-2"]) == 0
    )
    assert facility(["users", "sites", "pumps-li", "--site", "nowhere"]) == 2
    out = capsys.readouterr()
    assert "facility: --site: unknown site(s) nowhere" in out.err
    assert "facility: system: name a system or an asset type of the site" in out.err
    assert "user " in out.out and "pumps-li (contractor), sites east-1" in out.out
    assert facility(["contractors", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert f"Pumps Ltd\t1 asset(s)\t{estate.ids['pump']}" in "\n".join(listed)
    li = {"Authorization": f"Bearer {_token(estate.client, 'pumps-li')}"}
    assets = estate.client.get("/assets", headers=li).json()
    assert [a["id"] for a in assets] == [estate.ids["pump"]]

"""The role x route table, exact: for every operation of the API, each role's answer on a real
object with a valid request (2xx with the expected body where allowed; 403, or 404 for
another person's ticket, where not), and 401 without credentials. `test_access.py` keeps the
table complete against the OpenAPI schema.

Roles are people who logged in (the technician is linked to his roster entry, so the row-level
rules apply as in service); every call gets a fresh object where it changes one."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.runtime import Runtime
from maintenance.accounts import service as users
from maintenance.alarms.lifecycle import AlarmState
from maintenance.alarms.models import Alarm
from maintenance.flows import intake
from maintenance.notifications.notifier import CollectingNotifier
from maintenance.plans.checklists import CHECKLISTS
from maintenance.storage.db import utcnow
from maintenance.vocabulary import Channel, TicketType
from maintenance.work_orders.schemas import TicketCreate
from tests.helpers import quiet_service
from tests.ledger import Ledger, seed

pytestmark = pytest.mark.integration
ROLES = ("admin", "manager", "engineer", "technician", "requester")
PERSON = {
    "admin": "admin",
    "manager": "qa",
    "engineer": "eng",
    "technician": "wang",
    "requester": "unit-1203",
}
PASSWORD = "a long enough password"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
PERIOD = {"start": "2026-01-01T00:00:00Z", "end": "2027-01-01T00:00:00Z"}
FUTURE = "2030-01-01T10:00:00Z"
LIFT_ID = 1  # the ledger's first asset (checked by the fixture)
numbers = itertools.count(1)


@dataclass
class World:
    runtime: Runtime
    client: TestClient
    ledger: Ledger
    headers: dict[str, dict[str, str]]

    def as_(self, role: str) -> dict[str, str]:
        return self.headers[role]

    def move(self, role: str, ticket: int, **body: Any) -> None:
        moved = self.client.post(
            f"/tickets/{ticket}/transitions", json={"actor": "x", **body}, headers=self.as_(role)
        )
        assert moved.status_code == 200, moved.text

    # -- fresh objects ------------------------------------------------------------------------

    def ticket(self, state: str = "assigned") -> dict[str, Any]:
        """A repair of the lift filed by the requester and assigned to the technician."""
        made = self.client.post(
            "/tickets",
            json={"site_id": 1, "type": "repair", "title": "lift", "asset_id": LIFT_ID},
            headers=self.as_("requester"),
        )
        assert made.status_code == 201, made.text
        ticket = made.json()["id"]
        self.move("engineer", ticket, action="assign", technician_id=self.ledger.wang)
        steps = [
            ("accept", {"committed_at": FUTURE}, "accepted"),
            ("start", {}, "in_progress"),
            ("resolve", {}, "resolved"),
        ]
        for action, extra, reached in steps:
            if state == "assigned":
                break
            self.move("technician", ticket, action=action, **extra)
            if reached == state:
                break
        return {"ticket_id": ticket}

    def resolved(self) -> dict[str, Any]:
        return self.ticket("resolved")

    def inspection(self) -> dict[str, Any]:
        with self.runtime.database.transaction() as s:
            made = intake.create(
                s,
                TicketCreate(
                    site_id=self.ledger.site,
                    type=TicketType.inspection,
                    channel=Channel.schedule,
                    title="quarterly",
                    asset_id=self.ledger.lift,
                    checklist=CHECKLISTS["elevator"][:1],
                ),
                actor="schedule",
                now=utcnow(),
                notifier=CollectingNotifier(),
            )
            made_id = made.id
        self.move("engineer", made_id, action="assign", technician_id=self.ledger.wang)
        return {"ticket_id": made_id}

    def attachment(self) -> dict[str, Any]:
        ticket = self.ticket()["ticket_id"]
        sent = self.client.post(
            f"/tickets/{ticket}/attachments",
            files={"file": ("照片.png", PNG, "image/png")},
            headers=self.as_("requester"),
        )
        assert sent.status_code == 201, sent.text
        return {"attachment_id": sent.json()["id"], "ticket_id": ticket}

    def alarm(self, shelved: bool = False) -> dict[str, Any]:
        now = utcnow()
        with self.runtime.database.transaction() as s:
            alarm = Alarm(
                site="estate-1",
                system="power",
                device_id="power-001",
                rule_id=f"breaker-{next(numbers)}",
                site_id=self.ledger.site,
                asset_id=self.ledger.lift,
                severity="minor",
                state=AlarmState.active_unacknowledged,
                raised_at=now,
                occurrences=1,
                values={"code": "breaker_trip"},
                resettable=True,
                shelved_until=now + timedelta(hours=1) if shelved else None,
                shelved_by="eng" if shelved else None,
                updated_at=now,
            )
            s.add(alarm)
            s.flush()
            return {"alarm_id": alarm.id}

    def account(self) -> dict[str, Any]:
        """A fresh, active account to disable or enable."""
        with self.runtime.database.transaction() as s:
            user = users.create_user(s, f"temp-{next(numbers)}", PASSWORD, "engineer", now=utcnow())
            return {"user_id": user.id}

    def key(self) -> dict[str, Any]:
        with self.runtime.database.transaction() as s:
            _, row = users.create_api_key(s, "revocable", "engineer", now=utcnow())
            return {"key_id": row.id}

    def shelved(self) -> dict[str, Any]:
        return self.alarm(shelved=True)

    def plan(self) -> dict[str, Any]:
        made = self.client.post("/plans", json=plan_body(), headers=self.as_("admin"))
        assert made.status_code == 201, made.text
        return {"plan_id": made.json()["id"]}

    def patrol(self) -> dict[str, Any]:
        """A round of one point at the lobby, always taking check-ins."""
        made = self.client.post("/patrols/rounds", json=round_body(), headers=self.as_("admin"))
        assert made.status_code == 201, made.text
        return {"round_id": made.json()["id"], "code": made.json()["points"][0]["code"]}

    def patrol_photo(self) -> dict[str, Any]:
        """A check-in with a photo, on its run."""
        code = self.patrol()["code"]
        sent = self.client.post(
            "/patrols/check-ins",
            data={"code": code},
            files={"photo": ("巡更.png", PNG, "image/png")},
            headers=self.as_("technician"),
        )
        assert sent.status_code == 201, sent.text
        return {"check_in_id": sent.json()["id"], "run_id": sent.json()["run_id"]}

    def programme(self) -> dict[str, Any]:
        """An estate-wide plan and the site that changes it for itself."""
        return {**self.plan(), "site_id": self.ledger.site}

    def fixed(self) -> dict[str, Any]:
        return {
            "site_id": self.ledger.site,
            "asset_id": self.ledger.lift,
            "technician_id": self.ledger.wang,
        }


def plan_body(role: str = "admin") -> dict[str, Any]:
    return {
        "name": f"Monthly lift check {next(numbers)}",
        "system": "elevator",
        "every": 1,
        "unit": "months",
        "starts_on": "2027-01-01",
        "checklist": CHECKLISTS["elevator"][:2],
    }


def round_body(role: str = "admin") -> dict[str, Any]:
    return {
        "site_id": 1,
        "name": f"Security patrol {next(numbers)}",
        "starts_on": "2020-01-01",
        "window_minutes": 60,
        "grace_minutes": 0,
        "points": [{"location_id": 1}],
    }


Body = dict[str, Any] | Callable[[str], Any] | None  # a callable gets the caller's role


@dataclass
class Row:
    method: str
    path: str  # with {site_id}, {ticket_id} ... from the object
    answers: dict[str, int]  # role -> status
    make: str = "fixed"  # World method giving a fresh object (path parameters)
    body: Body = None
    params: dict[str, Any] = field(default_factory=dict)
    expect: dict[str, Any] = field(default_factory=dict)  # a subset of an allowed JSON answer
    length: int | None = None  # an allowed JSON list's length
    contains: str | None = None  # an allowed text answer's
    files: bool = False
    csv: str | None = None
    own_session: bool = False  # logs in afresh for the call (logging out ends the session)
    form: tuple[str, ...] = ()  # the object's values sent as form fields


def only(allowed: set[str], ok: int = 200, refused: int = 403) -> dict[str, int]:
    return {role: ok if role in allowed else refused for role in ROLES}


EVERYONE = set(ROLES)
STAFF = {"admin", "manager", "engineer", "technician"}
CONTROL = {"admin", "manager", "engineer"}
OFFICE = {"admin", "manager"}
LIFT = {"site_id": 1, "code": "LIFT-X", "system": "elevator", "type": "traction lift"}


def unique(base: dict[str, Any], key: str) -> Callable[[str], dict[str, Any]]:
    def body(role: str) -> dict[str, Any]:
        return {**base, key: f"{base[key]}-{next(numbers)}"}

    return body


TABLE = [
    Row("GET", "/users/me", only(EVERYONE), expect={}),
    Row(
        "PUT",
        "/users/me/language",
        only(EVERYONE),
        body={"language": "zh-CN"},
        expect={"language": "zh-CN"},
    ),
    Row("GET", "/users", only({"admin"}), length=5),
    Row(
        "POST",
        "/users",
        only({"admin"}, 201),
        body=unique({"username": "new", "password": PASSWORD, "role": "requester"}, "username"),
        expect={"role": "requester", "active": True},
    ),
    Row(
        "POST",
        "/users/{user_id}/disable",
        only({"admin"}),
        make="account",
        expect={"active": False},
    ),
    Row(
        "POST",
        "/users/{user_id}/enable",
        only({"admin"}),
        make="account",
        expect={"active": True},
    ),
    Row("POST", "/auth/logout", only(EVERYONE, 204), own_session=True, contains=""),
    Row("GET", "/api-keys", only({"admin"}), expect={}),
    Row(
        "POST",
        "/api-keys/{key_id}/revoke",
        only({"admin"}),
        make="key",
        expect={"name": "revocable", "role": "engineer"},
    ),
    Row(
        "POST",
        "/api-keys",
        only({"admin"}, 201),
        body=unique({"name": "prom", "role": "engineer"}, "name"),
        expect={"role": "engineer"},
    ),
    Row("GET", "/security-events", only(OFFICE)),
    Row("GET", "/metrics", only(CONTROL), contains="facility_"),
    Row("GET", "/devices/unmapped", only(CONTROL), expect={"held": [], "not_in_ledger": []}),
    Row(
        "POST",
        "/devices/unmapped/map",
        only(OFFICE, 422),  # allowed, and told why not: this service runs no sources file
        body={"source": "plant", "device": "pump-9", "asset_id": 1},
        expect={
            "detail": [
                {
                    "loc": ["body", "source"],
                    "msg": "this service runs no sources file",
                    "type": "value_error",
                }
            ]
        },
    ),
    Row("GET", "/sites", only(EVERYONE), length=2),
    Row(
        "POST",
        "/sites",
        only(OFFICE, 201),
        body=unique({"code": "s", "name": "Another estate"}, "code"),
        expect={"name": "Another estate", "timezone": "UTC"},
    ),
    Row("GET", "/sites/{site_id}", only(EVERYONE), expect={"code": "estate-1"}),
    Row("GET", "/sites/{site_id}/locations", only(EVERYONE), length=1),
    Row(
        "POST",
        "/locations",
        only(OFFICE, 201),
        body=unique({"site_id": 1, "building": "B"}, "building"),
        expect={"site_id": 1},
    ),
    Row("GET", "/assets", only(EVERYONE), params={"site_id": 1}, length=3),
    Row(
        "POST",
        "/assets",
        only(OFFICE, 201),
        body=unique(LIFT, "code"),
        expect={"system": "elevator", "device_ids": []},
    ),
    Row("GET", "/assets/{asset_id}", only(EVERYONE), expect={"code": "LIFT-A1"}),
    Row(
        "PUT",
        "/assets/{asset_id}",
        only(OFFICE),
        body={**LIFT, "code": "LIFT-A1", "name": "Lift A1", "device_ids": ["elevator-001"]},
        expect={"name": "Lift A1", "device_ids": ["elevator-001"]},
    ),
    Row("GET", "/assets/{asset_id}/history", only(STAFF)),
    Row(
        "POST",
        "/assets/import",
        only(OFFICE),
        csv="site_code,code,system,type\nestate-1,PUMP-9,water,booster pump\n",
        expect={"rejected": []},
    ),
    Row("GET", "/assets.csv", only(STAFF), contains="LIFT-A1"),
    Row(
        "POST",
        "/teams",
        only(OFFICE, 201),
        body=unique({"name": "Lifts"}, "name"),
        expect={"supervisor": None},
    ),
    Row("GET", "/technicians", only(STAFF), length=3),
    Row(
        "POST",
        "/technicians",
        only(OFFICE, 201),
        body={"name": "Zhou", "skills": ["fire"], "site_ids": [1]},
        expect={"name": "Zhou", "skills": ["fire"]},
    ),
    Row(
        "GET", "/technicians/{technician_id}", only(STAFF), expect={"skills": ["elevator", "water"]}
    ),
    Row(
        "POST",
        "/technicians/{technician_id}/shifts",
        only(OFFICE, 201),
        body={"starts_at": "2030-01-01T08:00:00Z", "ends_at": "2030-01-01T16:00:00Z"},
        expect={"starts_at": "2030-01-01T08:00:00Z"},
    ),
    Row("GET", "/sla-policies", only(STAFF)),
    Row(
        "PUT",
        "/sla-policies",
        only(OFFICE),
        body={"site_id": 1, "ticket_type": "repair", "response_minutes": 120},
        expect={"response_minutes": 120},
    ),
    Row("GET", "/plans", only(STAFF)),
    Row("POST", "/plans", only(OFFICE, 201), body=plan_body, expect={"unit": "months"}),
    Row("GET", "/plans/{plan_id}", only(STAFF), make="plan", expect={"system": "elevator"}),
    Row(
        "PUT",
        "/plans/{plan_id}",
        only(OFFICE),
        make="plan",
        body=lambda role: {**plan_body(), "paused": True},
        expect={"paused": True},
    ),
    Row("GET", "/plans/{plan_id}/preview", only(STAFF), make="plan"),
    Row(
        "POST",
        "/tickets/{ticket_id}/checklist",
        only(STAFF, 201),
        make="inspection",
        body={"actor": "x", "items": [{"key": "doors", "result": "pass"}]},
        length=0,
    ),
    Row("GET", "/reports/pm-compliance", only(STAFF), params=PERIOD),
    Row("GET", "/reports/compliance", only(OFFICE), params=PERIOD, length=0),
    Row("GET", "/sites/{site_id}/programmes", only(STAFF)),
    Row(
        "PUT",
        "/sites/{site_id}/risk-class",
        only(OFFICE),
        body={"risk_class": "hazardous"},
        expect={"risk_class": "hazardous"},
    ),
    Row(
        "PUT",
        "/sites/{site_id}/programmes/{plan_id}",
        only(OFFICE),
        make="programme",
        body={"enabled": False},
        expect={"paused": True},
    ),
    Row("GET", "/alarms", only(STAFF), expect={"limit": 50}),
    Row(
        "GET",
        "/alarms/{alarm_id}",
        only(STAFF),
        make="alarm",
        expect={"state": "active_unacknowledged"},
    ),
    Row("GET", "/alarms/{alarm_id}/events", only(STAFF), make="alarm", length=0),
    Row(
        "POST",
        "/alarms/{alarm_id}/acknowledge",
        only(CONTROL),
        make="alarm",
        body={"actor": "x"},
        expect={"state": "active_acknowledged"},
    ),
    Row(
        "POST",
        "/alarms/{alarm_id}/reset",
        only(CONTROL),
        make="alarm",
        body={"actor": "x", "reason": "breaker closed"},
        expect={"state": "normal"},
    ),
    Row(
        "POST",
        "/alarms/{alarm_id}/shelve",
        only(CONTROL),
        make="alarm",
        body={"actor": "x", "reason": "known", "minutes": 30},
        expect={"shelve_reason": "known"},
    ),
    Row(
        "POST",
        "/alarms/{alarm_id}/unshelve",
        only(CONTROL),
        make="shelved",
        body={"actor": "x"},
        expect={"shelved_until": None},
    ),
    Row("POST", "/alarms/{alarm_id}/ticket", only(CONTROL), make="alarm"),
    Row("GET", "/alarm-events", only(STAFF)),
    Row("GET", "/alarm-floods", only(STAFF), length=0),
    Row(
        "POST",
        "/maintenance-windows",
        only(CONTROL, 201),
        body={
            "asset_id": LIFT_ID,
            "starts_at": "2030-01-01T08:00:00Z",
            "ends_at": "2030-01-01T10:00:00Z",
        },
        expect={"asset_id": LIFT_ID},
    ),
    Row("GET", "/maintenance-windows", only(STAFF)),
    Row("GET", "/tickets/{ticket_id}/alarms", only(STAFF), make="ticket", length=0),
    Row("GET", "/rules", only(STAFF), expect={"reload_error": None}),
    Row("GET", "/notifications", only(OFFICE)),
    Row("POST", "/patrols/rounds", only(OFFICE, 201), body=round_body, expect={"unit": "hours"}),
    Row("GET", "/patrols/rounds", only(STAFF)),
    Row("GET", "/patrols/rounds/{round_id}", only(STAFF), make="patrol", expect={"paused": False}),
    Row(
        "PATCH",
        "/patrols/rounds/{round_id}",
        only(OFFICE),
        make="patrol",
        body={"paused": True},
        expect={"paused": True},
    ),
    Row("GET", "/patrols/runs", only(STAFF)),
    Row(
        "GET",
        "/patrols/runs/{run_id}",
        only(STAFF),
        make="patrol_photo",
        expect={"status": "completed"},
    ),
    Row(
        "POST",
        "/patrols/check-ins",
        only(STAFF, 201),
        make="patrol",
        form=("code",),
        expect={"method": "typed", "late": False, "abnormal": False},
    ),
    Row("GET", "/patrols/check-ins/{check_in_id}/photo", only(STAFF), make="patrol_photo"),
    Row("GET", "/reports/patrols", only(OFFICE), expect={"missed_points": []}),
    Row("GET", "/reports/failures", only(OFFICE), params=PERIOD, expect={"group_by": "system"}),
    Row("GET", "/reports/service-quality", only(OFFICE), params=PERIOD),
    Row(
        "GET",
        "/reports/anomaly-findings",
        only(OFFICE),
        params=PERIOD,
        expect={"models": [], "device_types": []},
    ),
    Row(
        "GET",
        "/reports/quarterly",
        only(OFFICE),
        params={"year": 2026, "quarter": 4, "format": "json"},
        expect={"start": "2026-10-01T00:00:00Z"},
    ),
    Row("GET", "/tickets", only(EVERYONE), expect={"limit": 50}),
    Row(
        "POST",
        "/tickets",
        only(EVERYONE, 201),
        body=lambda role: {
            "site_id": 1,
            "type": "repair",
            "title": "door",
            "asset_id": LIFT_ID,
            **({} if role == "requester" else {"channel": "front_desk"}),  # theirs: the app
        },
        expect={"state": "assigned", "title": "door"},
    ),
    Row(
        "POST",
        "/tickets/batch",
        only(CONTROL, 201),
        body={
            "items": [
                {
                    "site_id": 1,
                    "type": "repair",
                    "channel": "api",
                    "title": "x",
                    "asset_id": LIFT_ID,
                }
            ]
        },
        length=1,
    ),
    Row("GET", "/tickets/{ticket_id}", only(EVERYONE), make="ticket", expect={"state": "assigned"}),
    Row(
        "POST",
        "/tickets/{ticket_id}/transitions",
        only(STAFF),
        make="ticket",
        body={"action": "accept", "actor": "x", "committed_at": FUTURE},
        expect={"state": "accepted"},
    ),
    Row(
        "POST",
        "/tickets/{ticket_id}/comments",
        only(EVERYONE, 201),
        make="ticket",
        body={"author": "x", "body": "好的, on my way"},
        expect={"kind": "comment", "body": "好的, on my way"},
    ),
    Row("GET", "/tickets/{ticket_id}/comments", only(EVERYONE), make="ticket", length=0),
    Row(
        "POST",
        "/tickets/{ticket_id}/rating",
        {**only(EVERYONE), "technician": 403},
        make="resolved",
        body={"rating": 5, "comment": "快"},
        expect={"satisfaction": 5},
    ),
    Row("GET", "/tickets/{ticket_id}/audit", only(EVERYONE), make="ticket"),
    Row(
        "POST",
        "/tickets/{ticket_id}/attachments",
        only(EVERYONE, 201),
        make="ticket",
        files=True,
        expect={"filename": "门.png", "content_type": "image/png"},
    ),
    Row(
        "GET",
        "/attachments/{attachment_id}",
        only(EVERYONE),
        make="attachment",
    ),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with quiet_service(
        tmp_path_factory.mktemp("access") / "state", admin_password=PASSWORD
    ) as runtime:
        ledger = seed(runtime.database)
        assert ledger.lift == LIFT_ID
        client = TestClient(create_app(runtime))
        with runtime.database.transaction() as s:
            for role, name in PERSON.items():
                if role != "admin":
                    users.create_user(
                        s,
                        name,
                        PASSWORD,
                        role,
                        now=utcnow(),
                        technician_id=ledger.wang if role == "technician" else None,
                    )
        headers = {}
        for role, name in PERSON.items():
            token = client.post("/auth/token", data={"username": name, "password": PASSWORD})
            headers[role] = {"Authorization": f"Bearer {token.json()['access_token']}"}
        yield World(runtime, client, ledger, headers)


def call(world: World, row: Row, role: str | None) -> Any:
    objects = getattr(world, row.make)()
    path = row.path.format(**objects)
    headers = world.as_(role) if role else {}
    if row.own_session and role:
        name = PERSON[role]
        token = world.client.post("/auth/token", data={"username": name, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    if row.files:
        return world.client.post(
            path, files={"file": ("门.png", PNG, "image/png")}, headers=headers
        )
    if row.form:
        data = {name: objects[name] for name in row.form}
        return world.client.post(path, data=data, headers=headers)
    if row.csv is not None:
        return world.client.post(
            path, content=row.csv, headers={**headers, "Content-Type": "text/csv"}
        )
    body = row.body(role or "admin") if callable(row.body) else row.body
    return world.client.request(row.method, path, json=body, params=row.params, headers=headers)


@pytest.mark.parametrize("row", TABLE, ids=[f"{r.method} {r.path}" for r in TABLE])
def test_each_role_gets_exactly_its_answer(world: World, row: Row) -> None:
    assert call(world, row, None).status_code == 401
    for role in ROLES:
        response = call(world, row, role)
        assert response.status_code == row.answers[role], (role, response.text[:300])
        if not 200 <= response.status_code < 300:
            continue
        if row.contains is not None:
            assert row.contains in response.text, role
            continue
        if row.make == "attachment" or row.path.endswith("/photo"):
            assert response.content == PNG
            continue
        data = response.json()
        if row.length is not None:
            assert len(data) == row.length, (role, data)
        for key, value in row.expect.items():
            assert data[key] == value, (role, key, data)

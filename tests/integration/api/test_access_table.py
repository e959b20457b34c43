"""The role x scope x route table, exact: for every operation of the API, each role's answer on
a real object with a valid request (2xx with the expected body where allowed; 403, or 404 for
another person's ticket, where not), and 401 without credentials; then the same route on an
object outside the caller's scope (another site; for a contractor's person the in-house pump,
technician and plans of his own site): 404 for every role the route is open to but the
admin, who sees everything, and the object absent from lists and exports. `test_access.py`
keeps the table complete against the OpenAPI schema, and every row names its out-of-scope
dimension or why it has none.

Roles are people who logged in; all but the admin are limited to the first site, the
technician is linked to his roster entry and the contractor's person to his company's
technician, so the row-level rules apply as in service; every call gets a fresh object where
it changes one."""

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
from maintenance.assets.schemas import AssetCreate
from maintenance.assets.service import save_asset
from maintenance.dispatch import contractors, roster
from maintenance.dispatch.contractors import AssetAssignment, ContractorCreate
from maintenance.flows import intake
from maintenance.notifications.notifier import CollectingNotifier
from maintenance.plans.checklists import CHECKLISTS
from maintenance.storage.db import utcnow
from maintenance.vocabulary import Channel, TicketType
from maintenance.work_orders.schemas import TicketCreate
from tests.helpers import quiet_service
from tests.ledger import Ledger, seed

pytestmark = pytest.mark.integration
ROLES = ("admin", "manager", "engineer", "technician", "contractor", "requester")
PERSON = {
    "admin": "admin",
    "manager": "qa",
    "engineer": "eng",
    "technician": "wang",
    "contractor": "lift-co-zhou",
    "requester": "unit-1203",
}
PASSWORD = "a long enough password"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
PERIOD = {"start": "2026-01-01T00:00:00Z", "end": "2027-01-01T00:00:00Z"}
FUTURE = "2030-01-01T10:00:00Z"
LIFT_ID = 1  # the ledger's first asset (checked by the fixture)
numbers = itertools.count(1)
Objects = dict[str, Any]


@dataclass
class World:
    runtime: Runtime
    client: TestClient
    ledger: Ledger
    headers: dict[str, dict[str, str]]
    tower_lift: int  # the other site's lift, also Lift Co's: outside every scoped account
    sun: int  # the other site's in-house technician
    zhou: int  # Lift Co's technician on the first site (the contractor's person's entry)
    lift_co: int  # the contractor company responsible for both lifts

    def as_(self, role: str) -> dict[str, str]:
        return self.headers[role]

    def assignee(self, role: str) -> int:
        """Whose tickets the role works: the contractor's person his company's technician."""
        return self.zhou if role == "contractor" else self.ledger.wang

    def move(self, role: str, ticket: int, **body: Any) -> None:
        moved = self.client.post(
            f"/tickets/{ticket}/transitions", json={"actor": "x", **body}, headers=self.as_(role)
        )
        assert moved.status_code == 200, moved.text

    # -- fresh objects: inside the role's scope, or outside it --------------------------------

    def ticket(self, role: str, outside: bool, state: str = "assigned") -> Objects:
        """A repair of a lift filed by the requester (outside: of the other site's lift, or for
        the contractor's person the in-house pump of his own site, registered by the service)
        and assigned to the role's technician (outside the contractor's: an in-house one)."""
        if outside:
            made_id = self._intake(TicketType.repair, *self._where(role, outside))
        else:
            made = self.client.post(
                "/tickets",
                json={"site_id": 1, "type": "repair", "title": "lift", "asset_id": LIFT_ID},
                headers=self.as_("requester"),
            )
            assert made.status_code == 201, made.text
            made_id = made.json()["id"]
        mover = "admin" if outside else "engineer"
        self.move(mover, made_id, action="assign", technician_id=self._worker(role, outside))
        worker = "admin" if outside else ("contractor" if role == "contractor" else "technician")
        steps = [
            ("accept", {"committed_at": FUTURE}, "accepted"),
            ("start", {}, "in_progress"),
            ("resolve", {}, "resolved"),
        ]
        for action, extra, reached in steps:
            if state == "assigned":
                break
            self.move(worker, made_id, action=action, **extra)
            if reached == state:
                break
        return {"ticket_id": made_id}

    def resolved(self, role: str, outside: bool) -> Objects:
        return self.ticket(role, outside, "resolved")

    def _intake(self, kind: TicketType, site: int, asset: int) -> int:
        with self.runtime.database.transaction() as s:
            made = intake.create(
                s,
                TicketCreate(
                    site_id=site,
                    type=kind,
                    channel=Channel.schedule if kind is TicketType.inspection else Channel.app,
                    title="quarterly" if kind is TicketType.inspection else "lift",
                    asset_id=asset,
                    requester=PERSON["requester"],
                    checklist=CHECKLISTS["elevator"][:1] if kind is TicketType.inspection else [],
                ),
                actor="schedule",
                now=utcnow(),
                notifier=CollectingNotifier(),
            )
            return made.id

    def inspection(self, role: str, outside: bool) -> Objects:
        made_id = self._intake(TicketType.inspection, *self._where(role, outside))
        mover = "admin" if outside else "engineer"
        self.move(mover, made_id, action="assign", technician_id=self._worker(role, outside))
        return {"ticket_id": made_id}

    def attachment(self, role: str, outside: bool) -> Objects:
        ticket = self.ticket(role, outside)["ticket_id"]
        sent = self.client.post(
            f"/tickets/{ticket}/attachments",
            files={"file": ("照片.png", PNG, "image/png")},
            headers=self.as_("admin" if outside else "requester"),
        )
        assert sent.status_code == 201, sent.text
        return {"attachment_id": sent.json()["id"], "ticket_id": ticket}

    def alarm(self, role: str, outside: bool, shelved: bool = False) -> Objects:
        now = utcnow()
        site, asset = self._where(role, outside)
        with self.runtime.database.transaction() as s:
            alarm = Alarm(
                site="estate-1" if site == self.ledger.site else "tower-2",
                system="elevator",
                device_id="elevator-001",
                rule_id=f"breaker-{next(numbers)}",
                site_id=site,
                asset_id=asset,
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

    def shelved(self, role: str, outside: bool) -> Objects:
        return self.alarm(role, outside, shelved=True)

    def account(self, role: str, outside: bool) -> Objects:
        """A fresh, active account to disable, enable or scope."""
        with self.runtime.database.transaction() as s:
            user = users.create_user(s, f"temp-{next(numbers)}", PASSWORD, "engineer", now=utcnow())
            return {"user_id": user.id}

    def key(self, role: str, outside: bool) -> Objects:
        with self.runtime.database.transaction() as s:
            _, row = users.create_api_key(s, "revocable", "engineer", now=utcnow())
            return {"key_id": row.id}

    def contractor(self, role: str, outside: bool) -> Objects:
        return {**self.fixed(role, outside), "contractor_id": self.lift_co}

    def plan(self, role: str, outside: bool) -> Objects:
        """A monthly lift check of the site (outside: the other site's, or for the contractor's
        person a pump check of his own site, which covers none of his company's assets)."""
        body = plan_body(role, self.fixed(role, outside))
        if outside and role == "contractor":
            body.update(site_id=self.ledger.site, system="water", checklist=CHECKLISTS["water"])
        made = self.client.post("/plans", json=body, headers=self.as_("admin"))
        assert made.status_code == 201, made.text
        return {"plan_id": made.json()["id"], **self.fixed(role, outside)}

    def programme(self, role: str, outside: bool) -> Objects:
        """An estate-wide plan, and the site (the role's, or one outside its scope) that
        changes it for itself."""
        body = {**plan_body(role, self.fixed(role, outside)), "site_id": None}
        made = self.client.post("/plans", json=body, headers=self.as_("admin"))
        assert made.status_code == 201, made.text
        return {"plan_id": made.json()["id"], **self.fixed(role, outside)}

    def patrol(self, role: str, outside: bool) -> Objects:
        """A round of one point, always taking check-ins: at the role's site's lobby, or at a
        gate of the other site."""
        objects = self.fixed(role, outside)
        made = self.client.post(
            "/patrols/rounds", json=round_body(role, objects), headers=self.as_("admin")
        )
        assert made.status_code == 201, made.text
        point = made.json()["points"][0]
        return {**objects, "round_id": made.json()["id"], "code": point["code"]}

    def patrol_photo(self, role: str, outside: bool) -> Objects:
        """A check-in with a photo, on its run (which it completes)."""
        code = self.patrol(role, outside)["code"]
        sent = self.client.post(
            "/patrols/check-ins",
            data={"code": code},
            files={"photo": ("巡更.png", PNG, "image/png")},
            headers=self.as_("admin"),
        )
        assert sent.status_code == 201, sent.text
        return {"check_in_id": sent.json()["id"], "run_id": sent.json()["run_id"]}

    def place(self, site_id: int) -> int:
        """A place of the site for patrol points (the other site's gate made once)."""
        if site_id == self.ledger.site:
            return 1  # the lobby
        found = self.client.get(f"/sites/{site_id}/locations", headers=self.as_("admin")).json()
        if found:
            return int(found[0]["id"])
        made = self.client.post(
            "/locations", json={"site_id": site_id, "building": "Gate"}, headers=self.as_("admin")
        )
        assert made.status_code == 201, made.text
        return int(made.json()["id"])

    def fixed(self, role: str, outside: bool) -> Objects:
        """A site, an asset (with its site) and a technician: the role's, or outside its scope
        (the other site's; for the contractor's person the in-house pump and technician of
        his own site)."""
        asset_site, asset = self._where(role, outside)
        codes = {
            self.ledger.lift: "LIFT-A1",
            self.tower_lift: "LIFT-T1",
            self.ledger.pump: "PUMP-1",
        }
        return {
            "site_id": self.ledger.other_site if outside else self.ledger.site,
            "asset_site_id": asset_site,
            "asset_id": asset,
            "asset_code": codes[asset],
            "technician_id": self._technician(role, outside),
            "place_id": self.place(self.ledger.other_site if outside else self.ledger.site),
        }

    def _where(self, role: str, outside: bool) -> tuple[int, int]:
        """The site and asset of an object for the role, inside or outside its scope."""
        if outside and role == "contractor":
            return self.ledger.site, self.ledger.pump
        if outside:
            return self.ledger.other_site, self.tower_lift
        return self.ledger.site, self.ledger.lift

    def _technician(self, role: str, outside: bool) -> int:
        """The role's technician, or one outside its scope (the other site's; for the
        contractor's person the in-house one of his site)."""
        if not outside:
            return self.assignee(role)
        return self.ledger.wang if role == "contractor" else self.sun

    def _worker(self, role: str, outside: bool) -> int:
        """Whom an object outside the scope is assigned to: the role's own technician (it is
        still not theirs to see), but a contractor's technician never gets another's asset."""
        if not outside:
            return self.assignee(role)
        return self.ledger.wang if role == "contractor" else self.assignee(role)


def plan_body(role: str, objects: Objects) -> dict[str, Any]:
    return {
        "name": f"Monthly lift check {next(numbers)}",
        "site_id": objects["site_id"],
        "system": "elevator",
        "every": 1,
        "unit": "months",
        "starts_on": "2027-01-01",
        "checklist": CHECKLISTS["elevator"][:2],
    }


def round_body(role: str, objects: Objects) -> dict[str, Any]:
    return {
        "site_id": objects["site_id"],
        "name": f"Security patrol {next(numbers)}",
        "starts_on": "2020-01-01",
        "window_minutes": 60,
        "grace_minutes": 0,
        "points": [{"location_id": objects["place_id"]}],
    }


Body = dict[str, Any] | Callable[[str, Objects], Any] | None  # a callable: role and objects
Ids = Callable[[Any], set[int]]


@dataclass
class Row:
    method: str
    path: str  # with {site_id}, {ticket_id} ... from the object
    answers: dict[str, int]  # role -> status
    make: str = "fixed"  # World method giving a fresh object (path parameters, body values)
    body: Body = None
    params: dict[str, Any] = field(default_factory=dict)
    expect: dict[str, Any] = field(default_factory=dict)  # a subset of an allowed JSON answer
    length: int | dict[str, int] | None = None  # an allowed JSON list's length (per role)
    contains: str | None = None  # an allowed text answer's
    files: bool = False
    csv: str | None = None
    own_session: bool = False  # logs in afresh for the call (logging out ends the session)
    form: tuple[str, ...] = ()  # the objects' values sent as form fields
    # The scope dimension: the same call on an object outside the caller's scope ("object":
    # the path's and body's objects; "site": a site_id parameter), or a list or export from
    # which such an object is absent (`listed`: the World method making it, its key, and the
    # ids of an answer; `hidden`: a text an export must not hold); else why there is none.
    outside: str | None = "object"
    listed: tuple[str, str, Ids] | None = None
    hidden: str | None = None
    unscoped: str = ""
    row_level: bool = False  # the route is open to every role: its 403s are the row's rules


def only(allowed: set[str], ok: int = 200, refused: int = 403) -> dict[str, int]:
    return {role: ok if role in allowed else refused for role in ROLES}


def item_ids(data: Any) -> set[int]:
    return {int(x["id"]) for x in (data["items"] if isinstance(data, dict) else data)}


EVERYONE = set(ROLES)
STAFF = {"admin", "manager", "engineer", "technician", "contractor"}
PATROL = {"admin", "manager", "engineer", "technician"}
CONTROL = {"admin", "manager", "engineer"}
OFFICE = {"admin", "manager"}
LIFT = {"code": "LIFT-X", "system": "elevator", "type": "traction lift"}
SCOPED_ROLES = [r for r in ROLES if r != "admin"]


def unique(base: dict[str, Any], key: str) -> Callable[[str, Objects], dict[str, Any]]:
    def body(role: str, objects: Objects) -> dict[str, Any]:
        return {**base, key: f"{base[key]}-{next(numbers)}"}

    return body


def at(base: dict[str, Any], key: str = "") -> Callable[[str, Objects], dict[str, Any]]:
    """A body naming the objects' site (unique in `key` when given)."""

    def body(role: str, objects: Objects) -> dict[str, Any]:
        out = {"site_id": objects["site_id"], **base}
        return {**out, key: f"{base[key]}-{next(numbers)}"} if key else out

    return body


ACCOUNTS = "accounts and keys are not the estate's: the admin's, who sees every site"
MINE = "the caller's own account or session"
SERVICE = "the whole service's, not a site's"

TABLE = [
    Row("GET", "/users/me", only(EVERYONE), expect={}, outside=None, unscoped=MINE),
    Row(
        "PUT",
        "/users/me/language",
        only(EVERYONE),
        body={"language": "zh-CN"},
        expect={"language": "zh-CN"},
        outside=None,
        unscoped=MINE,
    ),
    Row("GET", "/users", only({"admin"}), length=6, outside=None, unscoped=ACCOUNTS),
    Row(
        "POST",
        "/users",
        only({"admin"}, 201),
        body=unique({"username": "new", "password": PASSWORD, "role": "requester"}, "username"),
        expect={"role": "requester", "active": True, "site_ids": None},
        outside=None,
        unscoped=ACCOUNTS,
    ),
    Row(
        "POST",
        "/users/{user_id}/disable",
        only({"admin"}),
        make="account",
        expect={"active": False},
        outside=None,
        unscoped=ACCOUNTS,
    ),
    Row(
        "POST",
        "/users/{user_id}/enable",
        only({"admin"}),
        make="account",
        expect={"active": True},
        outside=None,
        unscoped=ACCOUNTS,
    ),
    Row(
        "PUT",
        "/users/{user_id}/sites",
        only({"admin"}),
        make="account",
        body={"site_ids": [1]},
        expect={"site_ids": [1]},
        outside=None,
        unscoped=ACCOUNTS,
    ),
    Row(
        "POST",
        "/auth/logout",
        only(EVERYONE, 204),
        own_session=True,
        contains="",
        outside=None,
        unscoped=MINE,
    ),
    Row("GET", "/api-keys", only({"admin"}), expect={}, outside=None, unscoped=ACCOUNTS),
    Row(
        "POST",
        "/api-keys/{key_id}/revoke",
        only({"admin"}),
        make="key",
        expect={"name": "revocable", "role": "engineer"},
        outside=None,
        unscoped=ACCOUNTS,
    ),
    Row(
        "PUT",
        "/api-keys/{key_id}/sites",
        only({"admin"}),
        make="key",
        body={"site_ids": [2]},
        expect={"name": "revocable", "site_ids": [2]},
        outside=None,
        unscoped=ACCOUNTS,
    ),
    Row(
        "POST",
        "/api-keys",
        only({"admin"}, 201),
        body=unique({"name": "prom", "role": "engineer"}, "name"),
        expect={"role": "engineer", "site_ids": None},
        outside=None,
        unscoped=ACCOUNTS,
    ),
    Row(
        "GET",
        "/security-events",
        only(OFFICE),
        outside=None,
        unscoped="the security log is of accounts, not of sites",
    ),
    Row(
        "GET",
        "/metrics",
        {**only({"admin"}), "manager": 403, "engineer": 403},  # a site's caller: not the whole
        contains="facility_",
        outside=None,
        unscoped=SERVICE,
    ),
    Row(
        "GET",
        "/devices/unmapped",
        only(CONTROL),
        expect={"held": [], "not_in_ledger": []},
        outside=None,
        unscoped="devices nobody mapped are in no ledger site yet (a site's caller: its own)",
    ),
    Row(
        "POST",
        "/devices/unmapped/map",
        only(OFFICE, 422),  # allowed, and told why not: this service runs no sources file
        body=lambda role, objects: {
            "source": "plant",
            "device": "pump-9",
            "asset_id": objects["asset_id"],
        },
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
    Row(
        "GET",
        "/sites",
        only(EVERYONE),
        length={"admin": 2, **dict.fromkeys(SCOPED_ROLES, 1)},
        outside="listed",
        listed=("fixed", "site_id", item_ids),
    ),
    Row(
        "POST",
        "/sites",
        {**only(OFFICE, 201), "manager": 422},  # a site's manager does not add sites
        body=unique({"code": "s", "name": "Another estate"}, "code"),
        expect={"name": "Another estate", "timezone": "UTC"},
        outside=None,
        unscoped="a new site is in nobody's scope yet",
    ),
    Row("GET", "/sites/{site_id}", only(EVERYONE), expect={"code": "estate-1"}),
    Row("GET", "/sites/{site_id}/locations", only(EVERYONE), length=1),
    Row(
        "POST",
        "/locations",
        only(OFFICE, 201),
        body=at({"building": "B"}, "building"),
        expect={"site_id": 1},
    ),
    Row(
        "GET",
        "/assets",
        only(EVERYONE),
        length={"admin": 4, "contractor": 1, **{r: 3 for r in SCOPED_ROLES if r != "contractor"}},
        outside="listed",
        listed=("fixed", "asset_id", item_ids),
    ),
    Row(
        "POST",
        "/assets",
        only(OFFICE, 201),
        body=at(LIFT, "code"),
        expect={"system": "elevator", "device_ids": []},
    ),
    Row(
        "GET",
        "/assets/{asset_id}",
        only(EVERYONE),
        expect={"code": "LIFT-A1"},
    ),
    Row(
        "PUT",
        "/assets/{asset_id}",
        only(OFFICE),
        body=lambda role, o: {
            **LIFT,
            "site_id": o["site_id"],
            "code": o["asset_code"],
            "name": "Lift A1",
            "device_ids": ["elevator-001"],
        },
        expect={"name": "Lift A1", "device_ids": ["elevator-001"]},
    ),
    Row("GET", "/assets/{asset_id}/history", only(STAFF)),
    Row(
        "POST",
        "/assets/import",
        only(OFFICE),
        csv="site_code,code,system,type\nestate-1,PUMP-9,water,booster pump\n",
        expect={"rejected": []},
        outside=None,
        unscoped="a row of another site is rejected as an unknown site (test_scopes.py)",
    ),
    Row(
        "GET",
        "/assets.csv",
        only(STAFF),
        contains="LIFT-A1",
        outside="listed",
        hidden="LIFT-T1",
    ),
    Row(
        "POST",
        "/teams",
        only(OFFICE, 201),
        body=unique({"name": "Lifts"}, "name"),
        expect={"supervisor": None},
        outside=None,
        unscoped="a team is no site's",
    ),
    Row(
        "GET",
        "/technicians",
        only(STAFF),
        length={"admin": 5, "manager": 3, "engineer": 3, "technician": 3, "contractor": 1},
        outside="listed",
        listed=("fixed", "technician_id", item_ids),
    ),
    Row(
        "POST",
        "/technicians",
        only(OFFICE, 201),
        body=lambda role, o: {"name": "Zhou", "skills": ["fire"], "site_ids": [o["site_id"]]},
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
    Row(
        "GET",
        "/sla-policies",
        only(STAFF),
        outside=None,
        unscoped="policies of every site and of the caller's (test_scopes.py)",
    ),
    Row(
        "PUT",
        "/sla-policies",
        only(OFFICE),
        body=at({"ticket_type": "repair", "response_minutes": 120}),
        expect={"response_minutes": 120},
    ),
    Row("GET", "/plans", only(STAFF), outside="listed", listed=("plan", "plan_id", item_ids)),
    Row("POST", "/plans", only(OFFICE, 201), body=plan_body, expect={"unit": "months"}),
    Row("GET", "/plans/{plan_id}", only(STAFF), make="plan", expect={"system": "elevator"}),
    Row(
        "PUT",
        "/plans/{plan_id}",
        only(OFFICE),
        make="plan",
        body=lambda role, o: {**plan_body(role, o), "paused": True},
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
    Row(
        "GET",
        "/reports/pm-compliance",
        only(STAFF),
        params=PERIOD,
        outside=None,
        unscoped="counted in the caller's scope (its query takes it); a site answers per site",
    ),
    Row(
        "GET",
        "/reports/compliance",
        only(OFFICE),
        params=PERIOD,
        length=0,
        outside=None,
        unscoped="counted in the caller's scope (its query takes it); a site answers per site",
    ),
    Row(
        "GET",
        "/sites/{site_id}/programmes",
        {**only(STAFF), "contractor": 404},  # a site's programmes, not a company's
    ),
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
    Row(
        "POST",
        "/patrols/rounds",
        only(PATROL & OFFICE, 201),
        body=round_body,
        expect={"unit": "hours"},
    ),
    Row(
        "GET",
        "/patrols/rounds",
        only(PATROL),
        make="patrol",
        outside="listed",
        listed=("patrol", "round_id", item_ids),
    ),
    Row("GET", "/patrols/rounds/{round_id}", only(PATROL), make="patrol", expect={"paused": False}),
    Row(
        "PATCH",
        "/patrols/rounds/{round_id}",
        only(OFFICE),
        make="patrol",
        body={"paused": True},
        expect={"paused": True},
    ),
    Row(
        "GET",
        "/patrols/runs",
        only(PATROL),
        outside="listed",
        listed=("patrol_photo", "run_id", item_ids),
    ),
    Row(
        "GET",
        "/patrols/runs/{run_id}",
        only(PATROL),
        make="patrol_photo",
        expect={"status": "completed"},
    ),
    Row(
        "POST",
        "/patrols/check-ins",
        only(PATROL, 201),
        make="patrol",
        form=("code",),
        expect={"method": "typed", "late": False, "abnormal": False},
    ),
    Row("GET", "/patrols/check-ins/{check_in_id}/photo", only(PATROL), make="patrol_photo"),
    Row(
        "GET",
        "/reports/patrols",
        only(OFFICE),
        outside=None,
        unscoped="the runs of the caller's sites (its query takes them)",
    ),
    Row(
        "GET",
        "/alarms",
        only(STAFF),
        expect={"limit": 50},
        outside="listed",
        listed=("alarm", "alarm_id", item_ids),
    ),
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
    Row(
        "GET",
        "/alarm-events",
        only(STAFF),
        outside=None,
        unscoped="the trail of the caller's alarms (test_scopes.py)",
    ),
    Row(
        "GET",
        "/alarm-floods",
        only(STAFF),
        length=0,
        outside=None,
        unscoped="a flood is a site's (test_scopes.py)",
    ),
    Row(
        "POST",
        "/maintenance-windows",
        only(CONTROL, 201),
        body=lambda role, o: {
            "asset_id": o["asset_id"],
            "starts_at": "2030-01-01T08:00:00Z",
            "ends_at": "2030-01-01T10:00:00Z",
        },
        expect={"asset_id": LIFT_ID},
    ),
    Row(
        "GET",
        "/maintenance-windows",
        only(STAFF),
        outside=None,
        unscoped="the windows of the caller's assets (test_scopes.py)",
    ),
    Row("GET", "/tickets/{ticket_id}/alarms", only(STAFF), make="ticket", length=0),
    Row(
        "GET",
        "/rules",
        only(STAFF),
        expect={"reload_error": None},
        outside=None,
        unscoped="the rules in force are the service's",
    ),
    Row(
        "GET",
        "/notifications",
        only(OFFICE),
        outside=None,
        unscoped="deliveries about the caller's tickets and alarms (test_scopes.py)",
    ),
    Row(
        "GET",
        "/reports/failures",
        only(OFFICE),
        params=PERIOD,
        expect={"group_by": "system"},
        outside="site",
    ),
    Row("GET", "/reports/service-quality", only(OFFICE), params=PERIOD, outside="site"),
    Row(
        "GET",
        "/reports/anomaly-findings",
        only(OFFICE),
        params=PERIOD,
        expect={"models": [], "device_types": []},
        outside=None,
        unscoped="findings of the caller's alarms (its query takes the scope)",
    ),
    Row(
        "GET",
        "/reports/quarterly",
        only(OFFICE),
        params={"year": 2026, "quarter": 4, "format": "json"},
        expect={"start": "2026-10-01T00:00:00Z"},
        outside="site",
    ),
    Row(
        "POST",
        "/contractors",
        only(OFFICE, 201),
        body=unique({"name": "Pumps Ltd"}, "name"),
        expect={"asset_ids": []},
        outside=None,
        unscoped="a new company has no assets yet",
    ),
    Row(
        "GET",
        "/contractors",
        only(OFFICE),
        outside=None,
        unscoped="companies show the assets of the caller's sites only (test_scopes.py)",
    ),
    Row(
        "GET",
        "/contractors/{contractor_id}",
        only(OFFICE),
        make="contractor",
        expect={"name": "Lift Co"},
        outside=None,
        unscoped="its assets of the caller's sites only (test_scopes.py)",
    ),
    Row(
        "POST",
        "/contractors/{contractor_id}/assets",
        only(OFFICE),
        make="contractor",
        body=lambda role, o: {"asset_ids": [o["asset_id"]]},
        expect={"name": "Lift Co"},
    ),
    Row(
        "GET",
        "/tickets",
        only(EVERYONE),
        expect={"limit": 50},
        outside="listed",
        listed=("ticket", "ticket_id", item_ids),
    ),
    Row(
        "POST",
        "/tickets",
        only(EVERYONE, 201),
        body=lambda role, o: {
            "site_id": o["asset_site_id"],
            "type": "repair",
            "title": "door",
            "asset_id": o["asset_id"],
            **({} if role == "requester" else {"channel": "front_desk"}),  # theirs: the app
        },
        expect={"state": "assigned", "title": "door"},
        row_level=True,
    ),
    Row(
        "POST",
        "/tickets/batch",
        only(CONTROL, 201),
        body=lambda role, o: {
            "items": [
                {
                    "site_id": o["asset_site_id"],
                    "type": "repair",
                    "channel": "api",
                    "title": "x",
                    "asset_id": o["asset_id"],
                }
            ]
        },
        length=1,
    ),
    Row(
        "GET",
        "/tickets/{ticket_id}",
        only(EVERYONE),
        make="ticket",
        expect={"state": "assigned"},
        row_level=True,
    ),
    Row(
        "POST",
        "/tickets/{ticket_id}/transitions",
        only(STAFF),
        make="ticket",
        body={"action": "accept", "actor": "x", "committed_at": FUTURE},
        expect={"state": "accepted"},
        row_level=True,
    ),
    Row(
        "POST",
        "/tickets/{ticket_id}/comments",
        only(EVERYONE, 201),
        make="ticket",
        body={"author": "x", "body": "好的, on my way"},
        expect={"kind": "comment", "body": "好的, on my way"},
        row_level=True,
    ),
    Row(
        "GET",
        "/tickets/{ticket_id}/comments",
        only(EVERYONE),
        make="ticket",
        length=0,
        row_level=True,
    ),
    Row(
        "POST",
        "/tickets/{ticket_id}/rating",
        {**only(EVERYONE), "technician": 403, "contractor": 403},
        make="resolved",
        body={"rating": 5, "comment": "快"},
        expect={"satisfaction": 5},
        row_level=True,
    ),
    Row("GET", "/tickets/{ticket_id}/audit", only(EVERYONE), make="ticket", row_level=True),
    Row(
        "POST",
        "/tickets/{ticket_id}/attachments",
        only(EVERYONE, 201),
        make="ticket",
        files=True,
        expect={"filename": "门.png", "content_type": "image/png"},
        row_level=True,
    ),
    Row(
        "GET",
        "/attachments/{attachment_id}",
        only(EVERYONE),
        make="attachment",
        row_level=True,
    ),
]


def _setup(runtime: Runtime, ledger: Ledger) -> dict[str, int]:
    """The other site's lift and technician, Lift Co with both lifts and its technician on the
    first site, and the people: every one but the admin limited to the first site."""
    now = utcnow()
    with runtime.database.transaction() as s:
        tower = save_asset(
            s,
            AssetCreate(
                site_id=ledger.other_site,
                code="LIFT-T1",
                system="elevator",
                type="traction lift",
                device_ids=["elevator-001"],
            ),
        )
        sun = roster.create_technician(
            s,
            roster.TechnicianCreate(name="Sun", skills=["elevator"], site_ids=[ledger.other_site]),
        )
        company = contractors.create(s, ContractorCreate(name="Lift Co"), now=now)
        contractors.assign(s, company, AssetAssignment(asset_ids=[ledger.lift, tower.id]))
        zhou = roster.create_technician(
            s,
            roster.TechnicianCreate(
                name="Zhou",
                skills=["elevator", "water"],
                site_ids=[ledger.site],
                contractor_id=company.id,
            ),
        )
        for role, name in PERSON.items():
            if role == "admin":
                continue
            users.create_user(
                s,
                name,
                PASSWORD,
                role,
                now=now,
                technician_id={"technician": ledger.wang, "contractor": zhou.id}.get(role),
                site_ids=[ledger.site],
                contractor_id=company.id if role == "contractor" else None,
            )
        return {"tower_lift": tower.id, "sun": sun.id, "zhou": zhou.id, "lift_co": company.id}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with quiet_service(
        tmp_path_factory.mktemp("access") / "state", admin_password=PASSWORD
    ) as runtime:
        ledger = seed(runtime.database)
        assert ledger.lift == LIFT_ID
        client = TestClient(create_app(runtime))
        made = _setup(runtime, ledger)
        headers = {}
        for role, name in PERSON.items():
            token = client.post("/auth/token", data={"username": name, "password": PASSWORD})
            headers[role] = {"Authorization": f"Bearer {token.json()['access_token']}"}
        yield World(runtime, client, ledger, headers, **made)


def call(world: World, row: Row, role: str | None, outside: bool = False) -> Any:
    objects = getattr(world, row.make)(role or "admin", outside)
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
    body = row.body(role or "admin", objects) if callable(row.body) else row.body
    site = {"site_id": world.ledger.other_site} if outside and row.outside == "site" else {}
    params = {**row.params, **site}
    return world.client.request(row.method, path, json=body, params=params, headers=headers)


def outside_answer(row: Row, role: str) -> int:
    """Outside the caller's scope: the admin's answer as inside; a role the route is open to
    is told the object is not there; a role refused the route is still refused."""
    inside = row.answers[role]
    if role == "admin" or (inside == 403 and not row.row_level):
        return inside
    return 404


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
            length = row.length if isinstance(row.length, int) else row.length[role]
            assert len(data) == length, (role, data)
        for key, value in row.expect.items():
            assert data[key] == value, (role, key, data)


SCOPED = [r for r in TABLE if r.outside in ("object", "site")]
LISTED = [r for r in TABLE if r.outside == "listed"]


@pytest.mark.parametrize("row", SCOPED, ids=[f"{r.method} {r.path}" for r in SCOPED])
def test_outside_the_scope_each_role_is_told_it_is_not_there(world: World, row: Row) -> None:
    for role in ROLES:
        response = call(world, row, role, outside=True)
        assert response.status_code == outside_answer(row, role), (role, response.text[:300])
        if response.status_code == 404:
            assert response.json()["detail"].endswith("not found"), response.text


@pytest.mark.parametrize("row", LISTED, ids=[f"{r.method} {r.path}" for r in LISTED])
def test_outside_the_scope_objects_are_absent_from_lists_and_exports(
    world: World, row: Row
) -> None:
    for role in (r for r in ROLES if row.answers[r] == 200):
        if row.hidden is not None:
            text = call(world, row, role).text
            assert (row.hidden in text) == (role == "admin"), role
            continue
        assert row.listed is not None
        make, key, ids = row.listed
        hidden = getattr(world, make)(role, True)[key]
        params = {"limit": 500} if row.path in ("/tickets", "/alarms", "/assets") else {}
        data = world.client.get(row.path, params=params, headers=world.as_(role)).json()
        assert (hidden in ids(data)) == (role == "admin"), (role, hidden)


def test_every_row_has_its_scope_dimension_or_says_why_not() -> None:
    for row in TABLE:
        assert row.outside in ("object", "site", "listed", None), row.path
        assert (row.outside is None) == bool(row.unscoped), row.path
        if row.outside == "listed":
            assert (row.listed is None) != (row.hidden is None), row.path
        if row.outside == "object":
            assert "{" in row.path or row.body is not None or row.form, row.path

"""Who may set which field and take which action on a work order, role by role, asserted on
real tickets with the exact answer (maintenance/work_orders/permissions.py), and what each role
reads of them (disclosure.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from maintenance.accounts import service as users
from maintenance.storage.db import utcnow
from tests.helpers import api_key, quiet_service
from tests.ledger import Ledger, seed

pytestmark = pytest.mark.integration
PASSWORD = "a long enough password"


@dataclass
class Estate:
    client: TestClient
    ledger: Ledger
    who: dict[str, dict[str, str]]  # name -> headers

    def post(self, name: str, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(path, json=body, headers=self.who[name])

    def get(self, name: str, path: str) -> Any:
        return self.client.get(path, headers=self.who[name])

    def ticket(self, state: str = "assigned") -> int:
        """A repair of the lift filed by unit-1203, assigned to Wang, moved on to `state` by
        the people whose step it is."""
        made = self.post(
            "unit-1203",
            "/tickets",
            {
                "site_id": self.ledger.site,
                "type": "repair",
                "title": "lift",
                "asset_id": self.ledger.lift,
            },
        )
        assert made.status_code == 201, made.text
        ticket = made.json()["id"]
        steps: list[tuple[str, dict[str, Any]]] = [
            ("eng", {"action": "assign", "technician_id": self.ledger.wang}),
            ("wang", {"action": "accept", "committed_at": "2030-01-01T10:00:00Z"}),
            ("wang", {"action": "start"}),
            ("wang", {"action": "resolve", "note": "new door motor"}),
            ("unit-1203", {"action": "confirm"}),
            ("qa", {"action": "verify"}),
        ]
        order = ["assigned", "accepted", "in_progress", "resolved", "confirmed", "verified"]
        for (name, body), reached in zip(steps, order, strict=True):
            moved = self.post(name, f"/tickets/{ticket}/transitions", {"actor": "x", **body})
            assert moved.status_code == 200, (body, moved.text)
            if reached == state:
                break
        return int(ticket)


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    """One service for the module (people log in once); every test files its own tickets."""
    with quiet_service(
        tmp_path_factory.mktemp("permissions") / "state", admin_password=PASSWORD
    ) as runtime:
        ledger = seed(runtime.database)
        client = TestClient(create_app(runtime))
        people = [
            ("eng", "engineer", None),
            ("qa", "manager", None),
            ("wang", "technician", ledger.wang),
            ("li", "technician", ledger.li),
            ("unit-1203", "requester", None),
            ("unit-0501", "requester", None),
        ]
        with runtime.database.transaction() as s:
            for name, role, technician in people:
                users.create_user(s, name, PASSWORD, role, now=utcnow(), technician_id=technician)
        who = {}
        for name in ["admin", *(p[0] for p in people)]:
            token = client.post("/auth/token", data={"username": name, "password": PASSWORD})
            who[name] = {"Authorization": f"Bearer {token.json()['access_token']}"}
        who["crm"] = {"X-API-Key": api_key(runtime.database, "engineer", "crm")}
        # A technician's key without a roster entry (no technician_id).
        who["loose-tech"] = {"X-API-Key": api_key(runtime.database, "technician", "loose")}
        yield Estate(client, ledger, who)


PAST, FUTURE = "2026-11-01T08:00:00+08:00", "2099-01-01T00:00:00Z"
# (who, fields beyond the common ones, status, the refused field or None)
CREATE: list[tuple[str, dict[str, Any], int, str | None]] = [
    ("unit-1203", {}, 201, None),
    ("unit-1203", {"channel": "app"}, 422, "channel"),
    ("unit-1203", {"requester": "someone else"}, 422, "requester"),
    ("unit-1203", {"priority": "emergency"}, 422, "priority"),
    ("unit-1203", {"opened_at": PAST}, 422, "opened_at"),
    ("unit-1203", {"source_ref": "plan:1:asset:2:2027-01-01"}, 422, "source_ref"),
    ("unit-1203", {"due_at": FUTURE}, 422, "due_at"),
    ("unit-1203", {"checklist": [{"key": "a", "text": "b"}]}, 422, "checklist"),
    ("unit-1203", {"parent_ticket_id": 1}, 422, "parent_ticket_id"),
    ("unit-1203", {"in_scope": True}, 422, "in_scope"),
    ("unit-1203", {"type": "alarm"}, 422, "type"),
    ("unit-1203", {"type": "inspection"}, 422, "type"),
    ("wang", {"channel": "front_desk"}, 201, None),
    ("wang", {"channel": "front_desk", "type": "inspection"}, 422, "type"),
    ("wang", {"channel": "front_desk", "in_scope": True}, 422, "in_scope"),
    ("wang", {"channel": "front_desk", "opened_at": PAST}, 422, "opened_at"),
    ("eng", {"channel": "hotline", "priority": "emergency"}, 201, None),
    ("eng", {}, 422, "channel"),
    ("eng", {"channel": "alarm"}, 422, "channel"),
    ("eng", {"channel": "schedule", "type": "inspection"}, 422, "channel"),
    ("eng", {"channel": "hotline", "opened_at": PAST}, 422, "opened_at"),
    ("eng", {"channel": "hotline", "source_ref": "crm:1"}, 422, "source_ref"),
    ("crm", {"channel": "api", "opened_at": PAST, "source_ref": "crm:42"}, 201, None),
    ("crm", {"channel": "api", "source_ref": "alarm:1:1"}, 422, "source_ref"),
    ("crm", {"channel": "api", "opened_at": FUTURE}, 422, "opened_at"),
    ("crm", {"channel": "api", "opened_at": "2026-11-01T08:00:00"}, 422, "opened_at"),
    ("crm", {"channel": "api", "type": "alarm"}, 422, "type"),
    ("admin", {"channel": "hotline", "checklist": []}, 422, "checklist"),
    ("admin", {"channel": "hotline", "due_at": FUTURE}, 422, "due_at"),
]


@pytest.mark.parametrize(
    ("who", "fields", "status", "field"),
    CREATE,
    ids=[f"{w}-{'-'.join(f) or 'plain'}-{s}" for w, f, s, _ in CREATE],
)
def test_who_may_set_what_on_a_new_ticket(
    estate: Estate, who: str, fields: dict[str, Any], status: int, field: str | None
) -> None:
    body = {
        "site_id": estate.ledger.site,
        "type": "repair",
        "title": "lift",
        "asset_id": estate.ledger.lift,
    }
    filed = estate.get("admin", "/tickets").json()["total"]
    response = estate.post(who, "/tickets", {**body, **fields})
    assert response.status_code == status, response.text
    if field is not None:
        assert response.json()["detail"][0]["loc"] == ["body", field]
        assert estate.get("admin", "/tickets").json()["total"] == filed  # nothing was filed
        return
    made = response.json()
    if who == "unit-1203":
        assert (made["requester"], made["channel"], made["priority"]) == (
            "unit-1203",
            "app",
            "normal",
        )
    if who == "crm":
        assert (made["created_at"], made["source_ref"]) == ("2026-11-01T00:00:00Z", "crm:42")
    assert made["state"] == "assigned"


# (who, the ticket's state, the action and its fields, status, the state after)
ACT: list[tuple[str, str, dict[str, Any], int, str | None]] = [
    ("wang", "accepted", {"action": "assign", "technician_id": "wang"}, 403, None),
    ("unit-1203", "accepted", {"action": "assign", "technician_id": "wang"}, 403, None),
    ("eng", "accepted", {"action": "assign", "technician_id": "wang"}, 200, "assigned"),
    ("li", "assigned", {"action": "accept", "committed_at": FUTURE}, 403, None),
    ("wang", "assigned", {"action": "accept", "committed_at": FUTURE}, 200, "accepted"),
    ("wang", "assigned", {"action": "accept", "committed_at": "2030-01-01T10:00"}, 422, None),
    ("wang", "assigned", {"action": "accept", "technician_id": 2}, 422, None),
    ("wang", "accepted", {"action": "start"}, 200, "in_progress"),
    ("unit-1203", "accepted", {"action": "start"}, 403, None),
    ("wang", "in_progress", {"action": "resolve", "note": "done"}, 200, "resolved"),
    ("unit-1203", "resolved", {"action": "confirm"}, 200, "resolved"),
    ("unit-0501", "resolved", {"action": "confirm"}, 404, None),
    ("unit-1203", "confirmed", {"action": "confirm"}, 403, None),
    ("unit-1203", "confirmed", {"action": "reject", "note": "x"}, 403, None),
    ("eng", "resolved", {"action": "confirm"}, 403, None),
    ("wang", "resolved", {"action": "confirm"}, 403, None),
    ("unit-1203", "resolved", {"action": "reject", "note": "still noisy"}, 200, "reopened"),
    ("wang", "resolved", {"action": "reject", "note": "x"}, 403, None),
    ("qa", "resolved", {"action": "verify"}, 422, None),  # the requester has not confirmed
    ("qa", "confirmed", {"action": "verify"}, 200, "verified"),
    ("wang", "confirmed", {"action": "verify"}, 403, None),  # did the work
    ("unit-1203", "confirmed", {"action": "verify"}, 403, None),
    ("qa", "confirmed", {"action": "verify", "committed_at": FUTURE}, 422, None),
    ("wang", "verified", {"action": "close"}, 403, None),
    ("unit-1203", "verified", {"action": "close"}, 403, None),
    ("eng", "verified", {"action": "close"}, 200, "closed"),
    ("wang", "assigned", {"action": "cancel", "note": "not needed"}, 403, None),
    ("unit-1203", "assigned", {"action": "cancel", "note": "fixed it myself"}, 200, "cancelled"),
    ("unit-1203", "in_progress", {"action": "cancel", "note": "x"}, 403, None),
    ("eng", "in_progress", {"action": "cancel", "note": "duplicate"}, 200, "cancelled"),
    ("wang", "verified", {"action": "reopen", "note": "x"}, 403, None),
    ("unit-1203", "verified", {"action": "reopen", "note": "x"}, 403, None),
    ("wang", "in_progress", {"action": "escalate", "note": "needs a crane"}, 200, "in_progress"),
    ("li", "in_progress", {"action": "escalate", "note": "x"}, 403, None),
    ("unit-1203", "in_progress", {"action": "escalate", "note": "x"}, 403, None),
]


@pytest.mark.parametrize(
    ("who", "state", "body", "status", "after"),
    ACT,
    ids=[f"{w}-{b['action']}-on-{s}-{c}" for w, s, b, c, _ in ACT],
)
def test_who_may_take_which_step(
    estate: Estate, who: str, state: str, body: dict[str, Any], status: int, after: str | None
) -> None:
    ticket = estate.ticket(state)
    before = estate.get("admin", f"/tickets/{ticket}").json()
    if body.get("technician_id") == "wang":
        body = {**body, "technician_id": estate.ledger.wang}
    response = estate.post(who, f"/tickets/{ticket}/transitions", {"actor": "x", **body})
    assert response.status_code == status, response.text
    now = estate.get("admin", f"/tickets/{ticket}").json()
    if status != 200:
        assert (now["state"], now["version"]) == (before["state"], before["version"])
        return
    assert response.json()["state"] == now["state"] == after
    if body["action"] == "verify":
        assert now["verified_by"] == "qa"  # the caller, whatever the body names
    if body["action"] == "confirm":
        assert now["requester_confirmed_at"] is not None
    if body["action"] == "escalate":
        assert (now["escalated"], now["escalation_reason"]) == (True, "needs a crane")


def test_the_resolver_may_not_verify_even_from_the_control_room(estate: Estate) -> None:
    ticket = estate.ticket("in_progress")
    resolved = estate.post(
        "eng", f"/tickets/{ticket}/transitions", {"actor": "x", "action": "resolve"}
    )
    assert resolved.status_code == 200
    estate.post("unit-1203", f"/tickets/{ticket}/transitions", {"actor": "x", "action": "confirm"})
    refused = estate.post(
        "eng", f"/tickets/{ticket}/transitions", {"actor": "x", "action": "verify"}
    )
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "not allowed: the quality check is by someone who did not do the work"
    )


@pytest.mark.parametrize(
    ("who", "kind", "status"),
    [
        ("unit-1203", "comment", 201),
        ("unit-1203", "feedback", 403),
        ("unit-0501", "comment", 404),
        ("wang", "comment", 201),
        ("wang", "progress", 201),
        ("wang", "feedback", 403),
        ("li", "comment", 403),
        ("eng", "feedback", 201),
    ],
)
def test_who_may_comment(estate: Estate, who: str, kind: str, status: int) -> None:
    ticket = estate.ticket("assigned")
    response = estate.post(
        who, f"/tickets/{ticket}/comments", {"author": "x", "body": "好的", "kind": kind}
    )
    assert response.status_code == status, response.text
    if status == 201:
        made = response.json()
        assert (made["author"], made["kind"], made["body"]) == (who, kind, "好的")
        assert isinstance(made["id"], int)
        listed = estate.get("admin", f"/tickets/{ticket}/comments").json()
        assert [c["id"] for c in listed] == [made["id"]]


@pytest.mark.parametrize(
    ("who", "status"), [("unit-1203", 201), ("wang", 201), ("li", 403), ("unit-0501", 404)]
)
def test_who_may_attach_a_photo(estate: Estate, who: str, status: int) -> None:
    ticket = estate.ticket("assigned")
    response = estate.client.post(
        f"/tickets/{ticket}/attachments",
        files={"file": ("门.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 32, "image/png")},
        headers=estate.who[who],
    )
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    ("who", "status"), [("unit-1203", 200), ("wang", 403), ("qa", 200), ("unit-0501", 404)]
)
def test_who_may_rate(estate: Estate, who: str, status: int) -> None:
    ticket = estate.ticket("resolved")
    response = estate.post(who, f"/tickets/{ticket}/rating", {"rating": 5})
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["satisfaction"] == 5


def test_each_role_reads_only_the_personal_and_internal_data_it_may(estate: Estate) -> None:
    ticket = estate.ticket("accepted")
    estate.post("wang", f"/tickets/{ticket}/comments", {"author": "x", "body": "parts ordered"})
    estate.post(
        "eng",
        f"/tickets/{ticket}/comments",
        {"author": "x", "body": "we come at 10", "kind": "feedback"},
    )
    for who, expected in (("eng", "unit-1203"), ("unit-1203", "unit-1203"), ("wang", "")):
        one = estate.get(who, f"/tickets/{ticket}").json()
        assert one["requester"] == expected, who
        listed = estate.get(who, "/tickets").json()["items"]
        assert [t["requester"] for t in listed if t["id"] == ticket] == [expected], who
        history = (
            estate.get(who, f"/assets/{estate.ledger.lift}/history") if who != "unit-1203" else None
        )
        if history is not None:
            assert [t["requester"] for t in history.json() if t["id"] == ticket] == [expected]
    mine = estate.get("unit-1203", f"/tickets/{ticket}").json()
    assert (mine["assignment_reason"], mine["escalated_to"]) == ("", None)
    trail = estate.get("unit-1203", f"/tickets/{ticket}/audit").json()
    assert [(e["action"], e["actor"], e["note"]) for e in trail] == [
        ("create", "unit-1203", "SLA from default"),
        ("assign", "property service", ""),  # the dispatcher's reasoning is internal
        ("assign", "property service", ""),
        ("accept", "property service", ""),
        ("comment:feedback", "property service", "we come at 10"),  # addressed to them
    ]
    assert all(set(e["changes"]) <= {"state"} for e in trail)
    comments = estate.get("unit-1203", f"/tickets/{ticket}/comments").json()
    assert [c["body"] for c in comments] == ["we come at 10"]
    staff = estate.get("eng", f"/tickets/{ticket}/comments").json()
    assert [c["body"] for c in staff] == ["parts ordered", "we come at 10"]


def test_a_maintenance_window_names_its_author_not_the_bodys(estate: Estate) -> None:
    made = estate.post(
        "eng",
        "/maintenance-windows",
        {
            "asset_id": estate.ledger.lift,
            "starts_at": "2030-01-01T08:00:00Z",
            "ends_at": "2030-01-01T10:00:00Z",
            "created_by": "sup:chen",
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["created_by"] == "eng"


def test_a_technician_not_on_the_roster_owns_no_unassigned_ticket(estate: Estate) -> None:
    """An account without a roster entry and a ticket without an assignee are not a match."""
    site = estate.post("admin", "/sites", {"code": "nobody-here", "name": "No technicians"})
    assert site.status_code == 201, site.text
    made = estate.post(
        "eng",
        "/tickets",
        {"site_id": site.json()["id"], "type": "suggestion", "channel": "hotline", "title": "x"},
    )
    assert (made.status_code, made.json()["assignee_id"]) == (201, None)
    ticket = made.json()["id"]
    comment = estate.post(
        "loose-tech", f"/tickets/{ticket}/comments", {"author": "x", "body": "hi"}
    )
    assert comment.status_code == 403
    accept = {"actor": "x", "action": "accept", "committed_at": FUTURE}
    refused = estate.post("loose-tech", f"/tickets/{ticket}/transitions", accept)
    assert refused.status_code == 403

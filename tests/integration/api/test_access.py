"""Who may do what: a role x route table, asserted; row-level rules for requesters and
technicians; logins, tokens, rate limiting and the security log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.runtime import Runtime
from maintenance.accounts import service as users
from maintenance.storage.db import utcnow
from tests.helpers import api_key, quiet_service
from tests.integration.api.test_access_table import TABLE


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[Runtime, TestClient]]:
    with quiet_service(
        tmp_path / "state", admin_password="the admin's long password", login_max_failures=3
    ) as runtime:
        yield runtime, TestClient(create_app(runtime))


OPEN = [("GET", "/health"), ("POST", "/auth/token")]
STREAMING = "/alarms/live"


def test_the_table_covers_every_route(service: tuple[Runtime, TestClient]) -> None:
    """Every operation of the API is in the exact role x route table (test_access_table.py)."""
    runtime, _ = service
    schema = create_app(runtime).openapi()
    operations = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    tabled = {(r.method, re.sub(r"\{\w+\}", "{id}", r.path)) for r in TABLE}
    templated = {(m, re.sub(r"\{\w+\}", "{id}", p)) for m, p in operations}
    assert templated == tabled | {(m, p) for m, p in OPEN} | {("GET", STREAMING)}


def test_the_live_feed_is_for_staff(service: tuple[Runtime, TestClient]) -> None:
    """The stream never ends for an allowed caller (the browser test reads it); refusals here."""
    runtime, client = service
    assert client.get(STREAMING).status_code == 401
    for role in ("requester",):
        refused = client.get(STREAMING, headers={"X-API-Key": api_key(runtime.database, role)})
        assert refused.status_code == 403


def test_health_is_the_only_open_route(service: tuple[Runtime, TestClient]) -> None:
    _, client = service
    assert client.get("/health").status_code == 200


def login(client: TestClient, username: str, password: str) -> dict[str, str]:
    response = client.post("/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_requesters_see_only_their_own_and_technicians_move_only_their_tickets(
    service: tuple[Runtime, TestClient],
) -> None:
    runtime, client = service
    admin = login(client, "admin", "the admin's long password")
    site = client.post("/sites", json={"code": "e1", "name": "Estate"}, headers=admin).json()
    lift = client.post(
        "/assets",
        json={"site_id": site["id"], "code": "L1", "system": "elevator", "type": "lift"},
        headers=admin,
    ).json()
    wang = client.post(
        "/technicians",
        json={"name": "Wang", "skills": ["elevator"], "site_ids": [site["id"]]},
        headers=admin,
    ).json()
    li = client.post(
        "/technicians",
        json={"name": "Li", "skills": ["water"], "site_ids": [site["id"]]},
        headers=admin,
    ).json()
    for name, role, technician in (
        ("unit-1203", "requester", None),
        ("unit-0501", "requester", None),
        ("wang", "technician", wang["id"]),
        ("li", "technician", li["id"]),
    ):
        made = client.post(
            "/users",
            json={
                "username": name,
                "password": f"{name} long secret",
                "role": role,
                "technician_id": technician,
            },
            headers=admin,
        )
        assert made.status_code == 201, made.text
    resident = login(client, "unit-1203", "unit-1203 long secret")
    neighbour = login(client, "unit-0501", "unit-0501 long secret")
    request = {
        "site_id": site["id"],
        "type": "repair",
        "title": "lift noisy",
        "asset_id": lift["id"],
    }
    forged = client.post("/tickets", json={**request, "requester": "x"}, headers=resident)
    assert forged.status_code == 422
    assert forged.json()["detail"][0]["loc"] == ["body", "requester"]
    ticket = client.post("/tickets", json=request, headers=resident).json()
    assert (ticket["requester"], ticket["channel"]) == ("unit-1203", "app")  # the caller's own
    assert ticket["assignee_id"] == wang["id"]
    assert client.get(f"/tickets/{ticket['id']}", headers=neighbour).status_code == 404
    assert client.get("/tickets", headers=neighbour).json()["total"] == 0
    assert client.get("/tickets", headers=resident).json()["total"] == 1
    assert client.get(f"/tickets/{ticket['id']}/audit", headers=neighbour).status_code == 404
    accept = {"action": "accept", "actor": "x", "committed_at": "2030-01-01T10:00:00Z"}
    assert (
        client.post(
            f"/tickets/{ticket['id']}/transitions", json=accept, headers=resident
        ).status_code
        == 403
    )
    other = login(client, "li", "li long secret")
    assert (
        client.post(f"/tickets/{ticket['id']}/transitions", json=accept, headers=other).status_code
        == 403
    )
    results = {"actor": "x", "items": [{"key": "doors", "result": "pass"}]}
    checklist = f"/tickets/{ticket['id']}/checklist"
    assert client.post(checklist, json=results, headers=other).status_code == 403
    own = login(client, "wang", "wang long secret")
    accepted = client.post(f"/tickets/{ticket['id']}/transitions", json=accept, headers=own)
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    not_inspection = client.post(checklist, json=results, headers=own)  # past the assignee rule
    assert not_inspection.status_code == 422
    trail = client.get(f"/tickets/{ticket['id']}/audit", headers=admin).json()
    assert trail[-1]["actor"] == "wang"  # the logged-in person, not the body's "x"
    public = client.get(f"/tickets/{ticket['id']}/audit", headers=resident).json()
    assert [(e["action"], e["actor"]) for e in public] == [
        ("create", "unit-1203"),
        ("assign", "property service"),
        ("accept", "property service"),
    ]
    assert (
        client.post(f"/tickets/{ticket['id']}/rating", json={"rating": 5}, headers=own).status_code
        == 403
    )
    denied = client.get("/security-events", params={"action": "denied"}, headers=admin).json()
    assert [e["actor"] for e in denied] == ["wang", "li", "li", "unit-1203"]


def test_logins_are_rate_limited_and_recorded(service: tuple[Runtime, TestClient]) -> None:
    runtime, client = service
    for _ in range(3):
        bad = client.post("/auth/token", data={"username": "admin", "password": "guess"})
        assert bad.status_code == 401
    blocked = client.post(
        "/auth/token", data={"username": "admin", "password": "the admin's long password"}
    )
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    headers = {"X-API-Key": api_key(runtime.database, "admin")}
    actions = [e["action"] for e in client.get("/security-events", headers=headers).json()]
    assert actions[:4] == ["login_blocked", "login_failed", "login_failed", "login_failed"]
    assert (
        client.get("/users/me", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    )


def test_passwords_are_argon2_hashes_and_keys_are_stored_hashed(
    service: tuple[Runtime, TestClient],
) -> None:
    runtime, client = service
    key = api_key(runtime.database, "engineer")
    with runtime.database.transaction() as s:
        user = users.create_user(s, "zhao", "zhao's long secret", "manager", now=utcnow())
        assert user.password_hash.startswith("$argon2id$")
        assert users.find_api_key(s, key) is not None
        assert users.authenticate(s, "zhao", "wrong password") is None
    assert key not in (runtime.settings.state_dir / "facility.sqlite").read_bytes().decode(
        "latin-1"
    )
    me = client.get("/users/me", headers={"Authorization": f"Bearer {key}"}).json()
    assert (me["role"], me["via"]) == ("engineer", "api_key")

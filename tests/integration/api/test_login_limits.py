"""Login limits (api/login_limits.py) through the API: wrong passwords throttle the account they
try, not the people who share its address (a site's NAT, the control room), and a spraying
address is stopped by its own much higher ceiling."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.runtime import Runtime
from api.settings import Settings
from maintenance.accounts import service as users
from maintenance.storage.db import utcnow
from tests.helpers import api_key
from tests.servers import free_port

WRONG = {"detail": "wrong username or password"}
THROTTLED = {"detail": "too many failed logins; try later"}


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[Runtime, TestClient]]:
    runtime = Runtime(
        Settings(
            state_dir=tmp_path / "state",
            embedded_mqtt_port=free_port(),
            demo_fleet=False,
            plan_generation=False,
            rules_enabled=False,
            admin_password="the admin's long password",
            login_max_failures=5,
            login_client_max_failures=12,
        )
    )
    runtime.start()
    with runtime.database.transaction() as s:
        for name in ("wang", "li", "zhao"):
            users.create_user(s, name, f"{name} long secret", "engineer", now=utcnow())
    yield runtime, TestClient(create_app(runtime))
    runtime.stop()


def attempt(client: TestClient, username: str, password: str, address: str = "10.0.0.9") -> int:
    """A login as if from `address` (TestClient's requests all come from one client)."""
    client.app.state.test_address = address  # type: ignore[attr-defined]
    response = client.post("/auth/token", data={"username": username, "password": password})
    if response.status_code == 401:
        assert response.json() == WRONG
    if response.status_code == 429:
        assert response.json() == THROTTLED and int(response.headers["Retry-After"]) > 0
    return int(response.status_code)


@pytest.fixture(autouse=True)
def addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a test choose the client address of each login (the NAT, another building)."""
    import api.auth

    original = api.auth.client_of

    def client_of(request: object) -> str:
        app = getattr(request, "app", None)
        chosen = getattr(getattr(app, "state", None), "test_address", None)
        return str(chosen) if chosen else original(request)  # type: ignore[arg-type]

    monkeypatch.setattr(api.auth, "client_of", client_of)


def security_log(runtime: Runtime, client: TestClient) -> list[tuple[str, str, str, str]]:
    headers = {"X-API-Key": api_key(runtime.database, "admin")}
    rows = client.get("/security-events", headers=headers).json()
    # The seconds left of a throttle depend on the test's pace: checked to be near the window.
    for e in rows:
        if seconds := re.search(r"(\d+) s$", e["detail"]):
            assert 250 <= int(seconds[1]) <= 300, e
    return [
        (e["actor"], e["action"], re.sub(r"\d+ s$", "N s", e["detail"]), e["client"])
        for e in reversed(rows)
        if e["action"].startswith("login")
    ]


def test_five_wrong_passwords_throttle_that_account_not_the_others_behind_its_address(
    service: tuple[Runtime, TestClient],
) -> None:
    runtime, client = service
    assert [attempt(client, "wang", f"guess {i}") for i in range(5)] == [401] * 5
    # Another account's right password from the same address logs in ...
    assert attempt(client, "li", "li long secret") == 200
    # ... and so does a third account's, after a typo of its own.
    assert attempt(client, "zhao", "zhao typo") == 401
    assert attempt(client, "zhao", "zhao long secret") == 200
    # The attacked account is throttled, even for its right password, from anywhere new.
    assert attempt(client, "wang", "wang long secret") == 429
    assert attempt(client, "wang", "wang long secret", address="10.9.9.9") == 429
    log = security_log(runtime, client)
    assert log[:5] == [("wang", "login_failed", "", "10.0.0.9")] * 4 + [
        ("wang", "login_failed", "account now throttled for N s", "10.0.0.9")
    ]
    assert [(a, act) for a, act, _, _ in log[5:8]] == [
        ("li", "login"),
        ("zhao", "login_failed"),
        ("zhao", "login"),
    ]
    assert log[8:] == [
        ("wang", "login_blocked", "account throttled for N s", "10.0.0.9"),
        ("wang", "login_blocked", "account throttled for N s", "10.9.9.9"),
    ]


def test_an_attacker_elsewhere_does_not_lock_the_owner_out_of_an_address_it_uses(
    service: tuple[Runtime, TestClient],
) -> None:
    _, client = service
    assert attempt(client, "wang", "wang long secret", address="10.0.0.1") == 200
    assert [attempt(client, "wang", "guess", address="203.0.113.7") for _ in range(5)] == [401] * 5
    assert attempt(client, "wang", "wang long secret", address="203.0.113.7") == 429
    # Wang's own desk is an address the account logged in from: it counts on its own.
    assert attempt(client, "wang", "wang long secret", address="10.0.0.1") == 200
    # and is throttled by its own wrong passwords only.
    assert [attempt(client, "wang", "typo", address="10.0.0.1") for _ in range(5)] == [401] * 5
    assert attempt(client, "wang", "wang long secret", address="10.0.0.1") == 429


def test_a_spraying_address_reaches_its_ceiling_but_known_accounts_there_still_log_in(
    service: tuple[Runtime, TestClient],
) -> None:
    runtime, client = service
    assert attempt(client, "li", "li long secret", address="10.0.0.9") == 200
    # Password spraying: one guess for many (invented) accounts, none of them reaches five.
    sprayed = [attempt(client, f"user{i}", "Summer2026!", address="10.0.0.9") for i in range(12)]
    assert sprayed == [401] * 12
    assert attempt(client, "user99", "Summer2026!", address="10.0.0.9") == 429
    assert attempt(client, "zhao", "zhao long secret", address="10.0.0.9") == 429
    # An account that logged in from this address before is not an account new to it.
    assert attempt(client, "li", "li long secret", address="10.0.0.9") == 200
    # and the same accounts from elsewhere are untouched.
    assert attempt(client, "zhao", "zhao long secret", address="10.1.1.1") == 200
    blocked = [e for e in security_log(runtime, client) if e[1] == "login_blocked"]
    assert [(a, d) for a, _, d, _ in blocked] == [
        ("user99", "client throttled for N s"),
        ("zhao", "client throttled for N s"),
    ]

"""Revocation that revokes, on PostgreSQL behind a real uvicorn: a revoked key, a disabled
account and a logged-out session are refused on their very next request by the API, the
console and the live alarm feed (an open feed ends), renewal needs a live session cookie,
sessions have a maximum lifetime, and the security log records each step."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.auth import NOT_AUTHENTICATED
from api.main import create_app
from api.runtime import Runtime
from api.settings import Settings
from maintenance.accounts import service as users
from maintenance.accounts import sessions
from maintenance.accounts.models import LoginSession
from maintenance.storage.db import Database, utcnow
from tests.helpers import console_login, logout_token, serving
from tests.servers import Postgres, free_port

PASSWORD = "the admin's long password"
REFUSED = {"detail": NOT_AUTHENTICATED}
HOURS = timedelta(hours=12)


def make_service(url: str, tmp_path: Path, **settings: Any) -> Runtime:
    runtime = Runtime(
        Settings(
            state_dir=tmp_path / "state",
            embedded_mqtt_port=free_port(),
            demo_fleet=False,
            plan_generation=False,
            rules_enabled=False,
            admin_password=PASSWORD,
            database_url=url,
            **settings,
        )
    )
    runtime.start()
    return runtime


@pytest.fixture
def database_url(postgres_server: Postgres) -> str:
    return postgres_server.create_database(f"r_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def base(database_url: str, tmp_path: Path) -> Iterator[str]:
    runtime = make_service(database_url, tmp_path)
    with serving(create_app(runtime)) as url:
        yield url
    runtime.stop()


def token(base: str, username: str, password: str) -> dict[str, str]:
    answer = httpx.post(f"{base}/auth/token", data={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def make_user(base: str, admin: dict[str, str], username: str, role: str) -> int:
    made = httpx.post(
        f"{base}/users",
        json={"username": username, "password": f"{username} long secret", "role": role},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def events(base: str, admin: dict[str, str], *actions: str) -> list[tuple[str, str, str]]:
    rows = httpx.get(f"{base}/security-events", headers=admin).json()
    return [(e["actor"], e["action"], e["detail"]) for e in rows if e["action"] in actions]


class Feed:
    """An open live alarm feed, read line by line."""

    def __init__(self, base: str, **request: Any) -> None:
        self._context = httpx.stream("GET", f"{base}/alarms/live", timeout=10, **request)
        self.response = self._context.__enter__()
        self.lines = self.response.iter_lines()

    def ends_with(self, last: str, within_s: float) -> list[str]:
        """Every line until the server closes the stream; it must close in time."""
        seen: list[str] = []
        deadline = time.monotonic() + within_s
        for line in self.lines:
            seen.append(line)
            assert time.monotonic() < deadline, seen
        assert last in seen, seen
        return seen

    def close(self) -> None:
        self._context.__exit__(None, None, None)


def assert_refused_everywhere(base: str, **credentials: Any) -> None:
    """The API, a console page and the live feed all refuse these credentials now."""
    with httpx.Client(base_url=base, **credentials) as client:
        api = client.get("/users/me")
        assert (api.status_code, api.json()) == (401, REFUSED)
        page = client.get("/console/alarms", follow_redirects=False)
        assert (page.status_code, page.headers["location"]) == (
            303,
            "/console/login?next=/console/alarms",
        )
        feed = client.get("/alarms/live")
        assert (feed.status_code, feed.json()) == (401, REFUSED)
        renewal = client.post("/console/session", headers={"X-Facility-Console": "1"})
        assert renewal.status_code == 401  # a console address: a readable page, not JSON
        assert f'<p class="error" role="alert">{NOT_AUTHENTICATED}</p>' in renewal.text


def test_a_revoked_key_is_refused_on_its_next_request_and_its_open_feed_ends(base: str) -> None:
    admin = token(base, "admin", PASSWORD)
    made = httpx.post(f"{base}/api-keys", json={"name": "prom", "role": "engineer"}, headers=admin)
    assert made.status_code == 201
    key = {"X-API-Key": made.json()["key"]}
    me = httpx.get(f"{base}/users/me", headers=key)
    assert (me.status_code, me.json()["name"]) == (200, "key:prom")
    assert httpx.get(f"{base}/console/alarms", headers=key).status_code == 200
    feed = Feed(base, headers=key)
    assert feed.response.status_code == 200
    assert next(feed.lines) == ": connected"
    revoked = httpx.post(f"{base}/api-keys/{made.json()['id']}/revoke", headers=admin)
    assert revoked.status_code == 200
    assert (revoked.json()["name"], revoked.json()["revoked_at"] is not None) == ("prom", True)
    assert_refused_everywhere(base, headers=key)
    # The same key as a bearer token (as Prometheus sends it) is the same key.
    bearer = httpx.get(f"{base}/users/me", headers={"Authorization": f"Bearer {key['X-API-Key']}"})
    assert (bearer.status_code, bearer.json()) == (401, REFUSED)
    try:
        feed.ends_with("event: ended", within_s=5)
    finally:
        feed.close()
    again = httpx.post(f"{base}/api-keys/{made.json()['id']}/revoke", headers=admin)
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    listed = httpx.get(f"{base}/api-keys", headers=admin).json()
    assert [(k["name"], k["revoked_at"]) for k in listed] == [
        ("prom", revoked.json()["revoked_at"])
    ]
    assert "key" not in listed[0] and "key_hash" not in listed[0]
    assert events(base, admin, "api_key_revoked") == [
        ("admin", "api_key_revoked", "prom (engineer)")
    ]
    refused = events(base, admin, "credential_refused")
    assert len(refused) == 5  # me, page, feed, renewal, bearer
    assert set(refused) == {("key:prom", "credential_refused", "api key revoked")}


def test_disabling_an_account_ends_its_sessions_at_once_and_stops_its_logins(base: str) -> None:
    admin = token(base, "admin", PASSWORD)
    wang = make_user(base, admin, "wang", "engineer")
    bearer = token(base, "wang", "wang long secret")
    console = httpx.Client(base_url=base)
    assert console_login(console, "wang", "wang long secret").status_code == 303
    cookie = {"facility_session": console.cookies["facility_session"]}
    assert console.get("/console/alarms").status_code == 200
    feed = Feed(base, cookies=cookie)
    assert next(feed.lines) == ": connected"

    disabled = httpx.post(f"{base}/users/{wang}/disable", headers=admin)
    assert (disabled.status_code, disabled.json()["active"]) == (200, False)
    assert_refused_everywhere(base, headers=bearer)
    assert_refused_everywhere(base, cookies=cookie)
    try:
        feed.ends_with("event: ended", within_s=5)
    finally:
        feed.close()
    login = httpx.post(
        f"{base}/auth/token", data={"username": "wang", "password": "wang long secret"}
    )
    assert (login.status_code, login.json()) == (401, {"detail": "wrong username or password"})

    enabled = httpx.post(f"{base}/users/{wang}/enable", headers=admin)
    assert (enabled.status_code, enabled.json()["active"]) == (200, True)
    # Enabling lets the person log in again; the sessions that ended stay ended.
    assert httpx.get(f"{base}/users/me", headers=bearer).status_code == 401
    fresh = token(base, "wang", "wang long secret")
    assert httpx.get(f"{base}/users/me", headers=fresh).json()["name"] == "wang"
    assert events(base, admin, "user_disabled", "user_enabled") == [
        ("admin", "user_enabled", "wang"),
        ("admin", "user_disabled", "wang: 2 sessions ended"),
    ]
    assert set(events(base, admin, "credential_refused")) == {
        ("wang", "credential_refused", "session ended (disabled)")
    }
    console.close()


def test_the_last_active_admin_cannot_be_disabled(base: str) -> None:
    admin = token(base, "admin", PASSWORD)
    me = httpx.get(f"{base}/users", headers=admin).json()
    refused = httpx.post(f"{base}/users/{me[0]['id']}/disable", headers=admin)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["msg"] == "the last active admin account cannot be disabled"
    assert httpx.get(f"{base}/users/me", headers=admin).status_code == 200


def test_logging_out_ends_that_session_only(base: str) -> None:
    admin = token(base, "admin", PASSWORD)
    make_user(base, admin, "li", "engineer")
    phone = token(base, "li", "li long secret")
    console = httpx.Client(base_url=base)
    assert console_login(console, "li", "li long secret").status_code == 303
    cookie = {"facility_session": console.cookies["facility_session"]}
    page = console.get("/console/alarms")
    feed = Feed(base, cookies=cookie)
    assert next(feed.lines) == ": connected"

    # Without the page's logout token (another site's form) nothing ends.
    forged = console.post("/console/logout", data={"csrf": "guess"}, follow_redirects=False)
    assert forged.status_code == 403 and "log out from a console page" in forged.text
    assert console.get("/users/me").json()["name"] == "li"
    out = console.post(
        "/console/logout", data={"csrf": logout_token(page.text)}, follow_redirects=False
    )
    assert (out.status_code, out.headers["location"]) == (303, "/console/login")
    # A copy of the cookie kept from before the logout is refused everywhere.
    assert_refused_everywhere(base, cookies=cookie)
    try:
        feed.ends_with("event: ended", within_s=5)
    finally:
        feed.close()
    # The same person's other session (the phone's bearer token) goes on until it logs out.
    assert httpx.get(f"{base}/users/me", headers=phone).json()["name"] == "li"
    assert httpx.post(f"{base}/auth/logout", headers=phone).status_code == 204
    assert_refused_everywhere(base, headers=phone)
    logouts = events(base, admin, "logout")
    assert [(actor, action) for actor, action, _ in logouts] == [("li", "logout"), ("li", "logout")]
    keyed = httpx.post(f"{base}/auth/logout", headers={"X-API-Key": new_key(base, admin)})
    assert (keyed.status_code, keyed.json()) == (
        400,
        {"detail": "an API key is not a session: an admin revokes keys"},
    )
    console.close()


def new_key(base: str, admin: dict[str, str]) -> str:
    made = httpx.post(f"{base}/api-keys", json={"name": "k", "role": "engineer"}, headers=admin)
    return str(made.json()["key"])


def test_only_a_live_console_cookie_renews(base: str) -> None:
    admin = token(base, "admin", PASSWORD)
    key = new_key(base, admin)
    for credentials in ({"X-API-Key": key}, admin):
        renewal = httpx.post(
            f"{base}/console/session", headers={**credentials, "X-Facility-Console": "1"}
        )
        assert renewal.status_code == 401
        assert "only a console session cookie renews; log in again" in renewal.text
        assert "set-cookie" not in renewal.headers
    console = httpx.Client(base_url=base)
    assert console_login(console, "admin", PASSWORD).status_code == 303
    before = console.cookies["facility_session"]
    renewed = console.post("/console/session", headers={"X-Facility-Console": "1"})
    assert renewed.status_code == 204 and renewed.headers["set-cookie"].startswith(
        "facility_session="
    )
    again = httpx.get(
        f"{base}/users/me", cookies={"facility_session": renewed.cookies["facility_session"]}
    )
    assert (again.status_code, again.json()["via"]) == (200, "session")
    # The renewed cookie names the same session: logging out ends both copies.
    page = console.get("/console/alarms")
    console.post("/console/logout", data={"csrf": logout_token(page.text)})
    for cookie in (before, renewed.cookies["facility_session"]):
        answer = httpx.get(f"{base}/users/me", cookies={"facility_session": cookie})
        assert (answer.status_code, answer.json()) == (401, REFUSED)
    console.close()


def test_a_session_ends_at_its_maximum_lifetime_whatever_the_renewals(
    database_url: str, tmp_path: Path
) -> None:
    runtime = make_service(database_url, tmp_path, session_max_hours=2.0 / 3600)
    try:
        with serving(create_app(runtime)) as base:
            console = httpx.Client(base_url=base)
            done = console_login(console, "admin", PASSWORD)
            assert (
                "Max-Age=2;" in done.headers["set-cookie"]
                or "Max-Age=1;" in done.headers["set-cookie"]
            )
            cookie = {"facility_session": console.cookies["facility_session"]}
            renewed = console.post("/console/session", headers={"X-Facility-Console": "1"})
            assert renewed.status_code == 204
            time.sleep(2.2)
            assert_refused_everywhere(base, cookies=cookie)
            console.close()
    finally:
        runtime.stop()


def test_the_cli_disables_accounts_and_revokes_keys_for_the_running_api(
    base: str, database_url: str, tmp_path: Path
) -> None:
    admin = token(base, "admin", PASSWORD)
    make_user(base, admin, "zhao", "manager")
    zhao = token(base, "zhao", "zhao long secret")
    key = new_key(base, admin)
    env = {
        **os.environ,
        "FACILITY_DATABASE_URL": database_url,
        "FACILITY_STATE_DIR": str(tmp_path / "cli"),
    }

    def facility(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "api.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    disabled = facility("users", "disable", "zhao")
    assert (disabled.returncode, disabled.stdout) == (0, "user zhao: disabled; 1 sessions ended\n")
    assert_refused_everywhere(base, headers=zhao)
    keys = facility("api-keys", "list")
    (line,) = keys.stdout.splitlines()
    key_id, name, role, state = line.split("\t")
    assert (name, role, state) == ("k", "engineer", "active")
    revoked = facility("api-keys", "revoke", key_id)
    assert (revoked.returncode, revoked.stdout) == (0, f"api key {key_id} (k): revoked\n")
    assert_refused_everywhere(base, headers={"X-API-Key": key})
    listed = facility("users", "list").stdout.splitlines()
    assert [row.split("\t")[1:] for row in listed] == [
        ["admin", "admin", "active", "every site"],
        ["zhao", "manager", "disabled", "every site"],
    ]
    unknown = facility("users", "disable", "nobody")
    assert unknown.returncode == 2
    assert unknown.stderr.splitlines()[-1] == "facility: user nobody not found"
    assert events(base, admin, "user_disabled", "api_key_revoked") == [
        ("cli", "api_key_revoked", "k (engineer)"),
        ("cli", "user_disabled", "zhao: 1 sessions ended"),
    ]


def test_sessions_past_their_end_for_a_month_are_forgotten(pg_database: Database) -> None:
    now = utcnow()
    with pg_database.transaction() as s:
        user = users.create_user(s, "qian", "qian long secret", "engineer", now=now)
        _, old = sessions.start(s, user, now=now - timedelta(days=31), lifetime=HOURS, client="")
        _, recent = sessions.start(s, user, now=now - timedelta(days=29), lifetime=HOURS, client="")
        old_id, recent_id = old.id, recent.id
    with pg_database.transaction() as s:
        _, fresh = sessions.start(s, user, now=now, lifetime=HOURS, client="10.0.0.1")
        kept = set(s.scalars(select(LoginSession.id)))
    assert kept == {recent_id, fresh.id} and old_id not in kept


def test_a_session_runs_on_real_time_whatever_the_apps_clock(
    database_url: str, tmp_path: Path
) -> None:
    """Routes may run on a fixed clock (the tests' NOW); a login still lasts its real minutes."""
    runtime = make_service(database_url, tmp_path)
    try:
        app = create_app(runtime)
        app.state.clock = lambda: utcnow() - timedelta(days=60)
        client = TestClient(app)
        login = client.post("/auth/token", data={"username": "admin", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        me = client.get("/users/me", headers=headers)
        assert (me.status_code, me.json()["via"]) == (200, "token")
    finally:
        runtime.stop()


def test_a_live_feed_ends_when_the_token_it_was_opened_with_expires(
    database_url: str, tmp_path: Path
) -> None:
    """A page renews its cookie while open; the feed opened with the old token must not outlive
    it (`event: expired`, and the page opens the feed again with the renewed one)."""
    secret = "a secret of this test only, long enough for HS256"
    runtime = make_service(database_url, tmp_path, secret_key=secret)
    try:
        with serving(create_app(runtime)) as base:
            issued = token(base, "admin", PASSWORD)["Authorization"].removeprefix("Bearer ")
            sid = jwt.decode(issued, secret, algorithms=["HS256"])["sid"]
            now = datetime.now(UTC)
            short = jwt.encode(
                {"sub": "admin", "sid": sid, "iat": now, "exp": now + timedelta(seconds=2)},
                secret,
                algorithm="HS256",
            )
            feed = Feed(base, headers={"Authorization": f"Bearer {short}"})
            assert next(feed.lines) == ": connected"
            try:
                seen = feed.ends_with("event: expired", within_s=6)
            finally:
                feed.close()
            assert "event: ended" not in seen  # the session goes on: no logout
            later = httpx.get(f"{base}/users/me", headers={"Authorization": f"Bearer {issued}"})
            assert later.status_code == 200
    finally:
        runtime.stop()

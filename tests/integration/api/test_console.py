"""The operator console's pages on the server side: who sees which page, the session cookie
and its CSRF rule, and the figures the pages show (site status, SLA on the board)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.console.alarm_pages import site_status
from api.main import create_app
from api.runtime import Runtime
from ingest.readings import DeviceKey
from ingest.store.base import Point
from maintenance.accounts import service as users
from maintenance.alarms.lifecycle import AlarmState
from maintenance.alarms.models import Alarm
from maintenance.flows import intake
from maintenance.notifications.notifier import CollectingNotifier
from maintenance.scope import EVERYTHING
from maintenance.storage.db import Database, utcnow
from maintenance.vocabulary import Channel, Priority, TicketState, TicketType
from maintenance.work_orders.models import Ticket
from maintenance.work_orders.schemas import TicketCreate
from tests.helpers import api_key, console_login, logout_token, quiet_service
from tests.ledger import seed

PASSWORD = "the admin's long password"
CONTROL = {"admin", "manager", "engineer"}
PAGES = [
    ("/console/alarms", CONTROL),
    ("/console/alarms/rows", CONTROL),
    ("/console/sites", CONTROL),
    ("/console/tickets", CONTROL),
    ("/console/devices/s1/elevator/e1", CONTROL),
    ("/console/reports", {"admin", "manager"}),
    ("/console/devices/unmapped", {"admin", "manager"}),
    ("/console/my", {"admin", "manager", "engineer", "technician"}),
    ("/console/requests", {"admin", "manager", "engineer", "technician", "requester"}),
]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[Runtime, TestClient]]:
    with quiet_service(tmp_path / "state", admin_password=PASSWORD) as runtime:
        yield runtime, TestClient(create_app(runtime))


@pytest.mark.parametrize(("path", "allowed"), PAGES, ids=[p for p, _ in PAGES])
def test_each_role_sees_exactly_its_pages(
    service: tuple[Runtime, TestClient], path: str, allowed: set[str]
) -> None:
    runtime, client = service
    anonymous = client.get(path, follow_redirects=False)
    assert (anonymous.status_code, anonymous.headers["location"]) == (
        303,
        f"/console/login?next={path}",
    )
    for role in ("admin", "manager", "engineer", "technician", "requester"):
        response = client.get(path, headers={"X-API-Key": api_key(runtime.database, role)})
        assert response.status_code == (200 if role in allowed else 403), (role, response.text)
        assert response.headers["content-type"].startswith("text/html")
        if role not in allowed:
            assert f"This page is not for your role ({role})." in response.text


def test_login_sets_a_strict_http_only_session_and_changes_need_the_console_header(
    service: tuple[Runtime, TestClient],
) -> None:
    _, client = service
    wrong = console_login(client, "admin", "nope")
    assert wrong.status_code == 401 and "wrong username or password" in wrong.text
    evil = console_login(client, "admin", PASSWORD, next="//evil.example/x")
    assert evil.headers["location"] == "/console"  # no bouncing to other sites
    done = console_login(client, "admin", PASSWORD, next="/console/tickets")
    assert (done.status_code, done.headers["location"]) == (303, "/console/tickets")
    cookie = done.headers["set-cookie"]
    assert cookie.startswith("facility_session=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert client.get("/console/alarms").status_code == 200
    assert client.get("/users/me").json()["via"] == "session"
    # A form on another site could post with the cookie; it cannot add our header.
    forged = client.post("/sites", json={"code": "x", "name": "X"})
    assert forged.status_code == 403 and "x-facility-console" in forged.json()["detail"]
    made = client.post(
        "/sites", json={"code": "x", "name": "X"}, headers={"X-Facility-Console": "1"}
    )
    assert made.status_code == 201
    assert client.post("/console/session", headers={"X-Facility-Console": "1"}).status_code == 204
    token = logout_token(client.get("/console/alarms").text)
    out = client.post("/console/logout", data={"csrf": token}, follow_redirects=False)
    assert out.status_code == 303 and 'facility_session=""' in out.headers["set-cookie"]
    client.cookies.clear()
    assert client.get("/console/alarms", follow_redirects=False).status_code == 303


def _alarm(db: Database, site: str, system: str, device: str, rule: str, state: AlarmState) -> None:
    now = utcnow()
    with db.transaction() as s:
        s.add(
            Alarm(
                site=site,
                system=system,
                device_id=device,
                rule_id=rule,
                severity="major",
                message="m",
                state=state,
                raised_at=now,
                occurrences=1,
                values={},
                chattering=False,
                updated_at=now,
            )
        )


def test_site_status_counts_devices_normal_in_alarm_and_offline(database: Database) -> None:
    seed(database)  # the ledger's sites estate-1 and tower-2
    seen = [
        ("estate-1", "elevator", "lift-1", True),
        ("estate-1", "elevator", "lift-2", True),
        ("estate-1", "elevator", "lift-3", False),  # its last will: offline
        ("estate-1", "water", "pump-1", True),
        ("tower-9", "power", "meter-1", True),  # reporting, not yet in the ledger
    ]
    _alarm(database, "estate-1", "elevator", "lift-2", "vib", AlarmState.active_unacknowledged)
    _alarm(database, "estate-1", "water", "pump-1", "water-offline", AlarmState.active_acknowledged)
    _alarm(database, "estate-1", "water", "pump-1", "old", AlarmState.normal)
    _alarm(database, "estate-1", "fire", "panel-1", "fire-x", AlarmState.cleared_unacknowledged)
    with database.read() as s:
        status = site_status(s, seen, {"water-offline"}, EVERYTHING)
    assert list(status) == ["estate-1", "tower-2", "tower-9"]
    assert not any(e.devices for e in status["tower-2"].values())
    lifts = status["estate-1"]["elevator"]
    assert (lifts.normal, lifts.alarm, lifts.offline, lifts.status) == (1, 1, 1, "offline")
    assert lifts.devices == [("lift-1", "normal"), ("lift-2", "alarm"), ("lift-3", "offline")]
    water = status["estate-1"]["water"]
    assert (water.normal, water.alarm, water.offline) == (0, 0, 1)
    assert status["estate-1"]["fire"].devices == []  # a cleared alarm is not a device in alarm
    assert status["tower-9"]["power"].status == "normal"
    assert [s for s, e in status["tower-9"].items() if e.devices] == ["power"]


def test_the_board_shows_each_state_with_countdowns_and_breaches(
    service: tuple[Runtime, TestClient],
) -> None:
    runtime, client = service
    seed(runtime.database)
    now = utcnow()
    common = {
        "site_id": 1,
        "channel": Channel.app,
        "priority": Priority.urgent,
        "type": TicketType.repair,
        "escalated": False,
        "reopen_count": 0,
        "assignment_reason": "",
        "created_at": now,
        "updated_at": now,
    }
    with runtime.database.transaction() as s:
        s.add(
            Ticket(
                title="due soon",
                state=TicketState.new,
                response_due=now + timedelta(minutes=9),
                **common,
            )
        )
        s.add(
            Ticket(
                title="too late",
                state=TicketState.in_progress,
                responded_at=now,
                resolution_due=now - timedelta(hours=1),
                resolution_breached_at=now,
                **common,
            )
        )
    page = client.get("/console/tickets", headers={"X-API-Key": api_key(runtime.database)})
    text = page.text
    new_column = text.split('data-state="new"')[1].split("</section>")[0]
    assert "due soon" in new_column and 'data-what="response"' in new_column
    assert "<small>1</small>" in new_column
    progress = text.split('data-state="in_progress"')[1].split("</section>")[0]
    assert "too late" in progress and "breached" in progress and "SLA breached" in progress


def test_pages_take_the_same_bearer_tokens_as_the_api(service: tuple[Runtime, TestClient]) -> None:
    _, client = service
    token = client.post("/auth/token", data={"username": "admin", "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/console/alarms", headers=headers, follow_redirects=False).status_code == 200
    wrong = client.get(
        "/console/alarms", headers={"Authorization": "Bearer x"}, follow_redirects=False
    )
    assert (wrong.status_code, wrong.headers["location"]) == (
        303,
        "/console/login?next=/console/alarms",
    )


def test_the_board_and_the_phone_list_put_the_most_urgent_first(
    service: tuple[Runtime, TestClient],
) -> None:
    """An emergency due in 12 minutes above five routine inspections due tomorrow; among equal
    priorities, the nearest due time of the next step (the response until someone responded)."""
    runtime, client = service
    ledger = seed(runtime.database)
    now = utcnow()
    common = {
        "site_id": ledger.site,
        "channel": Channel.schedule,
        "state": TicketState.assigned,
        "assignee_id": ledger.wang,
        "escalated": False,
        "reopen_count": 0,
        "assignment_reason": "",
        "created_at": now,
        "updated_at": now,
    }
    with runtime.database.transaction() as s:
        for n in range(5):
            s.add(
                Ticket(
                    title=f"inspection {n}",
                    type=TicketType.inspection,
                    priority=Priority.normal,
                    response_due=now + timedelta(hours=20 + n),
                    resolution_due=now + timedelta(hours=24 - n),
                    **common,
                )
            )
        s.add(
            Ticket(
                title="trapped passenger",
                type=TicketType.alarm,
                priority=Priority.emergency,
                response_due=now + timedelta(minutes=12),
                resolution_due=now + timedelta(hours=4),
                **common,
            )
        )
    expected = ["trapped passenger", *(f"inspection {n}" for n in range(5))]
    board = client.get("/console/tickets", headers={"X-API-Key": api_key(runtime.database)})
    column = board.text.split('data-state="assigned"')[1].split("</section>")[0]
    assert [t for t in expected if t in column] == expected
    assert sorted(expected, key=column.index) == expected
    with runtime.database.transaction() as s:
        users.create_user(
            s, "wang", "wang's long password", "technician", now=now, technician_id=ledger.wang
        )
    token = client.post(
        "/auth/token", data={"username": "wang", "password": "wang's long password"}
    ).json()["access_token"]
    phone = client.get("/console/my", headers={"Authorization": f"Bearer {token}"}).text
    assert sorted(expected, key=phone.index) == expected


def test_a_device_page_reads_as_words_and_lists_its_assets_open_inspection(
    service: tuple[Runtime, TestClient],
) -> None:
    runtime, client = service
    ledger = seed(runtime.database)
    now = utcnow()
    runtime.ingest.store.write(
        [
            Point(
                "elevator",
                (("device_id", "elevator-001"), ("site", "estate-1")),
                {"motor_current": 42.0, "trips": 10257.0, "door_open": True, "seq": 7.0},
                int(now.timestamp() * 1000),
            )
        ]
    )
    with runtime.database.transaction() as s:
        intake.create(
            s,
            TicketCreate(
                site_id=ledger.site,
                type=TicketType.inspection,
                channel=Channel.schedule,
                title="Quarterly inspection of the lift",
                asset_id=ledger.lift,
            ),
            actor="schedule",
            now=now,
            notifier=CollectingNotifier(),
        )
    lift = DeviceKey("estate-1", "elevator", "elevator-001")
    report_ms = int(now.timestamp() * 1000) - 5000
    runtime.ingest.collector.devices.report(lift, {"firmware_version": "v2.1"}, report_ms)
    page = client.get(
        "/console/devices/estate-1/elevator/elevator-001",
        headers={"X-API-Key": api_key(runtime.database)},
    )
    assert page.status_code == 200
    values = page.text.split("Newest values")[1].split("</section>")[0]
    assert "<dt>Traction motor current</dt><dd>42 A</dd>" in values
    reported = values.split("Reported by the device")[1]
    when = datetime.fromtimestamp(report_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert f"<dt>firmware version</dt><dd>v2.1 <small>{when}</small></dd>" in reported
    assert "<dd>10,257 " in values and "<dd>yes " in values
    assert "seq" not in values and "True" not in values and "10257.0" not in values
    tickets = page.text.split("Tickets of its asset")[1]
    assert "Quarterly inspection of the lift" in tickets  # no alarm needed to find the asset


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/console/tickets/99999", 404, "There is no ticket 99999"),
        ("/console/tickets/abc", 422, "ticket_id"),
        ("/console/no-such-page", 404, "There is no such page."),
        ("/console/devices/s1/heating/x", 422, "unknown system"),
    ],
)
def test_errors_on_console_pages_are_pages(
    service: tuple[Runtime, TestClient], path: str, status: int, says: str
) -> None:
    runtime, client = service
    response = client.get(path, headers={"X-API-Key": api_key(runtime.database)})
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert says in response.text and "Your start page" in response.text


def test_another_persons_ticket_is_a_not_found_page_and_the_api_still_answers_json(
    service: tuple[Runtime, TestClient],
) -> None:
    runtime, client = service
    ledger = seed(runtime.database)
    mine = api_key(runtime.database, "requester", "unit-1203")
    made = client.post(
        "/tickets",
        json={"site_id": ledger.site, "type": "repair", "title": "tap", "location_id": 1},
        headers={"X-API-Key": mine},
    )
    assert made.status_code == 201, made.text
    other = {"X-API-Key": api_key(runtime.database, "requester", "unit-0501")}
    page = client.get(f"/console/tickets/{made.json()['id']}", headers=other)
    assert page.status_code == 404 and "not yours to see" in page.text
    api = client.get(f"/tickets/{made.json()['id']}", headers=other)
    assert (api.status_code, api.json()["kind"]) == (404, "ticket")

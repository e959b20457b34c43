"""Whole journeys as each person walks them, in Debian's chromium, in `make run`'s own
configuration (embedded broker, SQLite, the demo estate and its fleet, the shipped rules and
plans generating inspections):

- a resident files a repair with a photo on a phone; the technician accepts, starts, comments
  and resolves it on his phone; the resident confirms and rates it; a quality inspector (not
  the technician) verifies and archives it; the quarterly figures count it;
- a simulated main breaker trip raises a critical alarm whose ticket opens at once (the open
  quarterly inspection of the switch room does not silence it), is dispatched to the power
  technician and worked on his phone; the inspector verifies and archives it; the engineer
  resets the latched alarm with a reason in the console."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Dialog, Page, expect
from sqlalchemy import select

from api.main import create_app
from api.runtime import Runtime
from api.settings import Settings
from maintenance.accounts import service as users
from maintenance.dispatch.models import Technician
from maintenance.storage.db import utcnow
from simulators.fleet import Fleet
from simulators.publisher import FleetPublisher
from tests.e2e.test_console_browser import browser, log_in, png  # noqa: F401 (a fixture)
from tests.helpers import api_key, wait_until
from tests.servers import free_port

pytestmark = pytest.mark.integration
PASSWORD = "a long enough password"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}


@pytest.fixture
def made_run(tmp_path: Path) -> Iterator[tuple[Runtime, str, TestClient]]:
    """`facility run` as `make run` starts it (the defaults), on a real HTTP port, with one
    account per role."""
    settings = Settings(
        state_dir=tmp_path / "state",
        embedded_mqtt_port=free_port(),
        admin_password=PASSWORD,
        alarm_clock_interval_s=0.2,
    )
    assert settings.demo_fleet_on and settings.plan_generation and settings.rules_enabled
    runtime = Runtime(settings)
    runtime.start()
    wait_until(runtime.ingest.subscriber.connected.is_set, 10, "the collector to connect")
    with runtime.database.transaction() as s:
        technicians = {t.name: t.id for t in s.scalars(select(Technician))}
        for name, role, technician in (
            ("eng", "engineer", None),
            ("qa", "manager", None),
            ("tech-water", "technician", technicians["Demo water technician"]),
            ("tech-power", "technician", technicians["Demo power technician"]),
            ("unit-1203", "requester", None),
        ):
            users.create_user(s, name, PASSWORD, role, now=utcnow(), technician_id=technician)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "the HTTP server")
    api = TestClient(create_app(runtime), headers={"X-API-Key": api_key(runtime.database)})
    yield runtime, f"http://127.0.0.1:{port}", api
    server.should_exit = True
    thread.join(10)
    runtime.stop()


def answer(dialog: Dialog) -> None:
    """What the people type into the page's questions."""
    text = dialog.message
    if "minutes" in text:
        dialog.accept("20")
    elif "What was done" in text:
        dialog.accept("replaced the tap washer")
    elif "Why is the alarm reset" in text:
        dialog.accept("breaker closed again after the fault was found")
    else:
        dialog.accept()


def phone(browser: Browser, base: str, username: str) -> Page:  # noqa: F811
    page = browser.new_context(**PHONE).new_page()  # type: ignore[arg-type]
    page.on("dialog", answer)
    log_in(page, base, username, PASSWORD)
    return page


def ticket(api: TestClient, ticket_id: int) -> dict[str, Any]:
    got = api.get(f"/tickets/{ticket_id}")
    assert got.status_code == 200, got.text
    return dict(got.json())


def work_it_on_a_phone(browser: Browser, base: str, username: str, ticket_id: int) -> None:  # noqa: F811
    """Accept (on site within 20 minutes), start, comment, resolve: the technician's steps."""
    mobile = phone(browser, base, username)
    expect(mobile).to_have_url(f"{base}/console/my")
    card = mobile.locator(f"article[data-ticket='{ticket_id}']")
    card.locator("button[data-transition=accept]").click()
    card.locator("button[data-transition=start]").click()
    expect(card).to_contain_text("in progress")
    card.locator("a").click()
    mobile.fill("#comment input[name=body]", "到了, 正在处理 (on site)")
    mobile.click("#comment button")
    expect(mobile.locator("section", has_text="Comments")).to_contain_text("到了, 正在处理")
    mobile.click("button[data-transition=resolve]")
    expect(mobile.locator("[data-field=state]")).to_have_text("resolved")
    width = mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the ticket page is {width} px wide on a 390 px phone"
    mobile.context.close()


def verify_and_archive(browser: Browser, base: str, ticket_id: int) -> None:  # noqa: F811
    desk = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    desk.on("dialog", answer)
    log_in(desk, base, "qa", PASSWORD)
    desk.goto(f"{base}/console/tickets/{ticket_id}")
    desk.click("button[data-transition=verify]")
    expect(desk.locator("[data-field=state]")).to_have_text("verified")
    desk.click("button[data-transition=close]")
    expect(desk.locator("[data-field=state]")).to_have_text("closed")
    desk.context.close()


def test_a_resident_files_a_repair_and_follows_it_to_the_end(
    made_run: tuple[Runtime, str, TestClient],
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    runtime, base, api = made_run
    resident = phone(browser, base, "unit-1203")
    expect(resident).to_have_url(f"{base}/console/requests")
    resident.click("text=New request")
    resident.select_option("select[name=type]", "repair")
    resident.select_option("select[name=location_id]", label="Block A / 12 / unit 1203")
    resident.fill("input[name=title]", "厨房水龙头漏水")
    resident.fill("textarea[name=description]", "Kitchen tap drips all night")
    photo = tmp_path / "水龙头.png"
    photo.write_bytes(png())
    resident.set_input_files("input[name=file]", str(photo))
    resident.click("button[type=submit]")
    expect(resident.locator("h1")).to_contain_text("厨房水龙头漏水")
    expect(resident.locator(".attachments img")).to_have_count(1)
    expect(resident.locator("dl.fields")).to_contain_text("Block A / 12 / unit 1203")
    ticket_id = int(resident.url.rsplit("/", 1)[1])
    filed = ticket(api, ticket_id)
    assert (filed["requester"], filed["channel"], filed["type"], filed["state"]) == (
        "unit-1203",
        "app",
        "repair",
        "assigned",
    )

    # Dispatched by location to someone; the control room gives it to the water technician.
    water = api.get("/technicians").json()
    water_id = next(t["id"] for t in water if t["name"] == "Demo water technician")
    moved = api.post(
        f"/tickets/{ticket_id}/transitions",
        json={"action": "assign", "actor": "x", "technician_id": water_id},
    )
    assert moved.status_code == 200, moved.text
    work_it_on_a_phone(browser, base, "tech-water", ticket_id)

    resident.goto(f"{base}/console/requests")
    expect(resident.locator(".todo")).to_have_text("Please check the work and confirm it")
    resident.goto(f"{base}/console/tickets/{ticket_id}")
    resident.click("button[data-transition=confirm]")
    expect(resident.locator("article.ticket")).to_contain_text("The requester confirmed")
    resident.click("fieldset.stars label:has-text('5')")
    resident.fill("#rating input[name=comment]", "很快, thank you")
    resident.click("#rating button")
    expect(resident.locator("dl.fields")).to_contain_text("5/5")
    resident.screenshot(path=str(tmp_path / "resident.png"), full_page=True)
    resident.context.close()

    verify_and_archive(browser, base, ticket_id)
    done = ticket(api, ticket_id)
    assert (done["state"], done["verified_by"], done["satisfaction"]) == ("closed", "qa", 5)
    assert done["requester_confirmed_at"] is not None
    trail = [(e["actor"], e["action"]) for e in api.get(f"/tickets/{ticket_id}/audit").json()]
    assert [t for t in trail if t[1] not in ("create", "assign", "comment:comment")] == [
        ("unit-1203", "attach"),
        ("tech-water", "accept"),
        ("tech-water", "start"),
        ("tech-water", "resolve"),
        ("unit-1203", "confirm"),
        ("unit-1203", "rate"),
        ("qa", "verify"),
        ("qa", "close"),
    ]
    now = utcnow()
    quarter = (now.month - 1) // 3 + 1
    report = api.get(
        "/reports/quarterly", params={"year": now.year, "quarter": quarter, "format": "json"}
    ).json()
    assert report["average_rating"] == 5.0
    satisfied = next(k for k in report["kpis"] if k["name"] == "satisfied")
    assert (satisfied["numerator"], satisfied["denominator"]) == (1, 1)  # this request


def test_a_breaker_trip_becomes_a_ticket_worked_on_a_phone_and_the_alarm_is_reset(
    made_run: tuple[Runtime, str, TestClient],
    browser: Browser,  # noqa: F811
) -> None:
    runtime, base, api = made_run
    # The quarterly inspections are open on every demo asset, as `make run` leaves them.
    inspections = api.get("/tickets", params={"type": "inspection", "limit": 500}).json()
    assert inspections["total"] >= 25
    fleet = Fleet(
        runtime.settings.demo_site,
        runtime.settings.demo_devices,
        1.0,
        30.0,
        seed=3,
        scenario="breaker_trip",
        start_ms=int(time.time() * 1000) - 35_000,
    )
    (truth,) = fleet.truth()
    publisher = FleetPublisher(runtime.mqtt_url, fleet, client_id="breaker", mqtt5=False)
    try:
        publisher.publish_all(fleet.messages(), realtime=False)
    finally:
        publisher.close()

    def the_alarm() -> dict[str, Any] | None:
        found = api.get("/alarms", params={"rule_id": "power-breaker-trip"}).json()["items"]
        return found[0] if found and found[0]["ticket_id"] else None

    wait_until(lambda: the_alarm() is not None, 20, "the breaker alarm and its ticket")
    alarm = the_alarm()
    assert alarm is not None
    assert (alarm["device_id"], alarm["severity"], alarm["suppressed_by"]) == (
        truth.device_id,
        "critical",
        None,
    )
    assert (alarm["life_safety"], alarm["resettable"]) == (True, True)
    opened = ticket(api, alarm["ticket_id"])
    assert (opened["type"], opened["priority"], opened["state"]) == (
        "alarm",
        "emergency",
        "assigned",
    )
    power = next(t for t in api.get("/technicians").json() if t["id"] == opened["assignee_id"])
    assert power["name"] == "Demo power technician"

    work_it_on_a_phone(browser, base, "tech-power", opened["id"])
    verify_and_archive(browser, base, opened["id"])
    assert ticket(api, opened["id"])["state"] == "closed"

    # The breaker never sends a clear: the engineer resets the alarm, with a reason.
    control = browser.new_context(viewport={"width": 1600, "height": 900}).new_page()
    control.on("dialog", answer)
    log_in(control, base, "eng", PASSWORD)
    row = control.locator(f"#alarm-{alarm['id']}")
    expect(row).to_contain_text("Main breaker tripped")
    row.locator("button[data-action=reset]").click()
    expect(control.locator(f"#alarm-{alarm['id']}")).to_have_count(0)  # no longer standing
    control.context.close()
    after = api.get(f"/alarms/{alarm['id']}").json()
    assert (after["state"], after["acknowledged_by"]) == ("normal", "eng")
    trail = api.get(f"/alarms/{alarm['id']}/events").json()
    assert (trail[-1]["action"], trail[-1]["actor"], trail[-1]["note"]) == (
        "reset",
        "eng",
        "breaker closed again after the fault was found",
    )

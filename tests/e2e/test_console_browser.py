"""The console in a real browser (Debian's chromium, headless, driven by Playwright): a
simulator's fault shows up live in the alarm list, acknowledging it in the page changes its
state, the ticket board shows the new ticket, and the technician works it on a phone."""

from __future__ import annotations

import re
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect, sync_playwright

from api.main import create_app
from api.runtime import Runtime
from api.settings import Settings
from maintenance.accounts import service as users
from maintenance.storage.db import migrate, utcnow
from tests.e2e.test_fault_to_ticket import seed_ledger
from tests.helpers import console_login, publish, recent_fleet, wait_until
from tests.servers import Mosquitto, free_port

pytestmark = pytest.mark.integration
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "the admin's long password"


@pytest.fixture
def console(tmp_path: Path, mosquitto: Mosquitto) -> Iterator[tuple[Runtime, str]]:
    """The whole service on a real HTTP port, rules on, reading a real mosquitto."""
    settings = Settings(
        state_dir=tmp_path / "state",
        mqtt_url=mosquitto.url,
        demo_fleet=False,
        plan_generation=False,
        alarm_clock_interval_s=0.2,
        admin_password=PASSWORD,
    )
    runtime = Runtime(settings)
    migrate(runtime.engine)
    seed_ledger(runtime, recent_fleet(devices=5, steps=1))
    runtime.start()
    with runtime.database.transaction() as s:
        users.create_user(
            s, "wang", "wang's long password", "technician", technician_id=1, now=utcnow()
        )
    wait_until(runtime.ingest.subscriber.connected.is_set, 10, "the collector to connect")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(runtime),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "the HTTP server")
    yield runtime, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    runtime.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
            ],
        )
        yield browser
        browser.close()


def log_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/console")
    expect(page).to_have_url(f"{base}/console/login?next=/console")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def png() -> bytes:
    """A 1x1 PNG: a technician's photo, as far as the attachment store can tell."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def test_a_fault_appears_live_is_acknowledged_in_the_page_and_worked_on_a_phone(
    console: tuple[Runtime, str], browser: Browser, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    runtime, base = console
    control_room = browser.new_context(viewport={"width": 1600, "height": 900})
    page = control_room.new_page()
    log_in(page, base, "admin", PASSWORD)
    expect(page).to_have_url(f"{base}/console/alarms")
    expect(page.locator("#live.on")).to_be_visible(timeout=10_000)  # the SSE feed is open
    expect(page.locator("table.alarms tbody")).to_contain_text("No standing alarms.")

    fleet = recent_fleet(devices=5, steps=60, scenario="elevator_trapped_passenger")
    (truth,) = fleet.truth()
    published = time.monotonic()
    publish(mosquitto.url, fleet.messages(), fleet)
    row = page.locator("table.alarms tbody tr.unack")
    expect(row).to_have_count(1, timeout=15_000)  # pushed: the page does not poll
    shown_after = time.monotonic() - published
    print(f"alarm on screen {shown_after:.2f} s after the fault was published")
    expect(row).to_contain_text("Passenger trapped in the car")
    expect(row).to_contain_text(truth.device_id)
    expect(row.locator(".state")).to_have_text("active unacknowledged")
    alarm_id = int(row.get_attribute("data-alarm") or 0)
    expect(page.locator("[data-field=unacknowledged]")).to_have_text("1")

    row.locator("button[data-action=acknowledge]").click()
    acked = page.locator(f"#alarm-{alarm_id}")
    expect(acked.locator(".state")).to_have_text("active acknowledged")
    expect(acked).not_to_have_class("unack")
    expect(page.locator("[data-field=unacknowledged]")).to_have_text("0")
    client = TestClient(create_app(runtime))
    assert console_login(client, "admin", PASSWORD).status_code == 303
    alarm = client.get(f"/alarms/{alarm_id}").json()
    assert (alarm["state"], alarm["acknowledged_by"]) == ("active_acknowledged", "admin")
    ticket_id = alarm["ticket_id"]

    page.click("nav >> text=Tickets")
    card = page.locator(f"section.column[data-state=assigned] article[data-ticket='{ticket_id}']")
    expect(card).to_contain_text("Passenger trapped in the car")
    expect(card).to_contain_text("Wang")
    # A live countdown, its time filled in (minutes:seconds under an hour, else hours)
    countdown = re.compile(r"^response in (\d+h \d\dm|\d\d:\d\d)$")
    expect(card.locator(".sla.countdown")).to_have_text(countdown)

    # The technician, on a phone: accept (committing to a time), start, photo, resolve.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    mobile = phone.new_page()
    mobile.on(
        "dialog",
        lambda dialog: dialog.accept("20" if "minutes" in dialog.message else "reset the car"),
    )
    log_in(mobile, base, "wang", "wang's long password")
    expect(mobile).to_have_url(f"{base}/console/my")
    mine = mobile.locator(f"article[data-ticket='{ticket_id}']")
    mine.locator("button[data-transition=accept]").click()
    expect(mine.locator("button[data-transition=start]")).to_be_visible()
    mine.locator("button[data-transition=start]").click()
    expect(mine).to_contain_text("in progress")
    mine.locator("a").click()
    photo = tmp_path / "car.png"
    photo.write_bytes(png())
    mobile.set_input_files("#upload input[type=file]", str(photo))
    mobile.click("#upload button")
    expect(mobile.locator(".attachments img")).to_have_count(1)
    mobile.click("button[data-transition=resolve]")
    expect(mobile.locator("[data-field=state]")).to_have_text("resolved")
    expect(mobile.locator("table.audit")).to_contain_text("wang")

    ticket = client.get(f"/tickets/{ticket_id}").json()
    assert (ticket["state"], ticket["assignee_id"]) == ("resolved", 1)
    trail = [(e["actor"], e["action"]) for e in client.get(f"/tickets/{ticket_id}/audit").json()]
    steps = [t for t in trail if t[1] in ("accept", "start", "resolve")]
    assert steps == [("wang", "accept"), ("wang", "start"), ("wang", "resolve")]
    phone.close()
    control_room.close()

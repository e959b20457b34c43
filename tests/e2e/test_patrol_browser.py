"""A patrol round as its people walk it, in Debian's chromium, in `make run`'s configuration:
the manager prints the labels (QR codes a phone's camera reads), the technician opens a
label's address on a phone, logs in, checks in with an abnormal observation and a photo (a
repair ticket opens), types the next point's code, and the run shows both points done."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import segno
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect

from api.runtime import Runtime
from maintenance.storage.db import utcnow
from tests.e2e.test_console_browser import browser, png  # noqa: F401 (a fixture)
from tests.e2e.test_journeys_browser import PASSWORD, PHONE, made_run  # noqa: F401 (a fixture)
from tests.helpers import console_login

pytestmark = pytest.mark.integration


def a_round_open_all_day(api: TestClient) -> dict[str, object]:
    """The office's round for the test: started an hour ago, open for the next 22 hours."""
    sites = api.get("/sites").json()
    places = api.get(f"/sites/{sites[0]['id']}/locations").json()
    start = utcnow() - timedelta(hours=1)
    body = {
        "site_id": sites[0]["id"],
        "name": "夜间巡更 Night round",
        "unit": "days",
        "starts_on": start.date().isoformat(),
        "start_time": start.strftime("%H:%M"),
        "window_minutes": 1380,
        "grace_minutes": 60,
        "points": [{"location_id": p["id"]} for p in places[:3]],
    }
    made = api.post("/patrols/rounds", json=body)
    assert made.status_code == 201, made.text
    return dict(made.json())


def test_labels_are_printed_and_a_round_is_walked_on_a_phone(
    made_run: tuple[Runtime, str, TestClient],  # noqa: F811
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    _, base, api = made_run
    names = [r["name"] for r in api.get("/patrols/rounds").json()]
    assert names == ["Security patrol", "Plant room round"]  # the demo estate's
    made = a_round_open_all_day(api)
    points: list[dict[str, str]] = made["points"]  # type: ignore[assignment]
    with httpx.Client(base_url=base) as office:
        assert console_login(office, "qa", PASSWORD).status_code == 303
        sheet = office.get(f"/console/patrols/rounds/{made['id']}/labels")
    assert sheet.status_code == 200
    for p in points:  # each label's QR code is the point's check-in address
        url = f"{base}/console/patrols/check-in/{p['code']}"
        assert str(segno.make(url, error="m").svg_inline(scale=4, border=2)) in sheet.text

    desk = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    desk.goto(f"{base}/console/login")
    desk.fill("input[name=username]", "qa")
    desk.fill("input[name=password]", PASSWORD)
    desk.click("button[type=submit]")
    desk.goto(f"{base}/console/patrols/rounds/{made['id']}/labels")
    expect(desk.locator("figure.label svg")).to_have_count(3)
    desk.screenshot(path=tmp_path / "labels.png", full_page=True)
    desk.context.close()

    mobile = browser.new_context(**PHONE).new_page()  # type: ignore[arg-type]
    mobile.goto(f"{base}/console/patrols/check-in/{points[0]['code']}")  # the camera opened it
    mobile.fill("input[name=username]", "tech-water")
    mobile.fill("input[name=password]", PASSWORD)
    mobile.click("button[type=submit]")
    expect(mobile).to_have_url(f"{base}/console/patrols/check-in/{points[0]['code']}")
    expect(mobile.locator("h1")).to_have_text(points[0]["name"])
    mobile.fill("textarea[name=observation]", "消防门被楔住 fire door wedged open")
    mobile.check("input[name=abnormal]")
    photo = tmp_path / "door.png"
    photo.write_bytes(png())
    mobile.set_input_files("input[name=photo]", str(photo))
    mobile.screenshot(path=tmp_path / "check-in.png", full_page=True)
    mobile.click("#check-in button[type=submit]")
    expect(mobile).to_have_url(re.compile(r"/console/patrols/runs/\d+$"))
    first = mobile.locator(f"li[data-point='{points[0]['id']}']")
    expect(first).to_have_class("done")
    expect(first).to_contain_text("消防门被楔住")
    ticket_link = first.locator("a")
    expect(ticket_link).to_contain_text("#")

    mobile.goto(f"{base}/console/patrols")
    mobile.fill("input[name=code]", points[1]["code"].lower())
    mobile.click("#patrol-code button[type=submit]")
    expect(mobile.locator("h1")).to_have_text(points[1]["name"])
    mobile.click("#check-in button[type=submit]")
    expect(mobile.locator(f"li[data-point='{points[1]['id']}']")).to_have_class("done")
    expect(mobile.locator(f"li[data-point='{points[2]['id']}']")).to_have_class("todo")
    width = mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the run page is {width} px wide on a 390 px phone"
    mobile.screenshot(path=tmp_path / "run.png", full_page=True)

    mobile.goto(f"{base}/console/patrols/check-in/{points[1]['code']}")  # scanned again
    expect(mobile.locator("#already")).to_contain_text("tech-water")
    mobile.context.close()

    runs = api.get("/patrols/runs", params={"round_id": made["id"]}).json()
    assert len(runs) == 1 and runs[0]["status"] == "open"
    done = runs[0]["check_ins"]
    assert [(c["point_id"], c["method"], c["abnormal"], c["has_photo"]) for c in done] == [
        (points[0]["id"], "scan", True, True),
        (points[1]["id"], "typed", False, False),
    ]
    repair = api.get(f"/tickets/{done[0]['ticket_id']}").json()
    assert (repair["type"], repair["location_id"]) == ("repair", points[0]["location_id"])
    trail = api.get(f"/tickets/{repair['id']}/audit").json()
    assert [e["action"] for e in trail].count("attach") == 1

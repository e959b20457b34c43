"""Every console page in Chinese and in English, in Debian's chromium: on the Chinese page no
English is left in any text node (only the data: codes, names, units), on the English page no
Chinese but the data; the Chinese text is drawn in the CJK font (no missing glyphs); a
resident on a Chinese estate reads Chinese whatever the phone says, until they choose English
in the console; and their request and rating controls are big enough for a thumb."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

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
from tests.e2e.test_console_browser import browser, log_in  # noqa: F401 (a fixture)
from tests.helpers import api_key, quiet_service, wait_until
from tests.servers import free_port

pytestmark = pytest.mark.integration
PASSWORD = "a long enough password"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}
# What a page may show in Latin letters on the Chinese page: the estate's data and the
# product's proper names.
DATA_WORDS = {
    "hepan",
    "elevator-001",
    "LIFT-1",
    "boss",
    "zhang",
    "resident",
    "PDF",
    "Excel",
    "CSV",
    "English",
    "MTBF",
    "MTTR",
    "UPS",
    "mm",
    "s",
    "bar",
    "C",
    "ohm",
    "V",
    "A",
    "km",
    "K7M2QX",  # the example in the patrol code box
}
DATA_CHINESE = {
    "河畔花园",
    "张师傅",
    "厨房水龙头漏水",
    "一号楼",
    "中文",
    "水龙头在滴水",
    "夜间巡更",
    "大门",
    "正常",
}
CODES: set[str] = set()  # the patrol labels' short codes, made by the seed
LATIN = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*")
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]+")
TEXTS = """() => {
  const walker = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_TEXT);
  const out = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.textContent.trim();
    // What people (and the service's own audit notes) wrote is theirs, not the page's.
    if (text && !n.parentElement.closest(".recorded")) out.push(text);
  }
  for (const el of document.querySelectorAll("[placeholder], [title], [aria-label]")) {
    for (const name of ["placeholder", "title", "aria-label"]) {
      const value = el.getAttribute(name);
      if (value) out.push(value);
    }
  }
  return out;
}"""


@pytest.fixture
def estate(tmp_path: Path) -> Iterator[tuple[Runtime, str, dict[str, int]]]:
    """A Chinese estate (Asia/Shanghai) with an alarm, an inspection with its checklist, a
    resident's resolved request; one account per person; the service on a real port."""
    with quiet_service(tmp_path / "state", rules_enabled=True) as runtime:
        api = TestClient(create_app(runtime), headers={"X-API-Key": api_key(runtime.database)})
        ids = _seed(runtime, api)
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        wait_until(lambda: server.started, 10, "the HTTP server")
        yield runtime, f"http://127.0.0.1:{port}", ids
        server.should_exit = True
        thread.join(10)


def _seed(runtime: Runtime, api: TestClient) -> dict[str, int]:
    def made(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = api.post(path, json=body)
        assert answer.status_code in (200, 201), (path, answer.text)
        return dict(answer.json())

    site = made("/sites", {"code": "hepan", "name": "河畔花园", "timezone": "Asia/Shanghai"})
    place = made("/locations", {"site_id": site["id"], "building": "一号楼"})
    lift = made(
        "/assets",
        {
            "site_id": site["id"],
            "code": "LIFT-1",
            "system": "elevator",
            "type": "traction lift",
            "location_id": place["id"],
            "device_ids": ["elevator-001"],
        },
    )
    technician = made("/technicians", {"name": "张师傅", "skills": ["elevator"]})
    with runtime.database.transaction() as s:
        now = utcnow()
        inspection = intake.create(
            s,
            TicketCreate(
                site_id=site["id"],
                type=TicketType.inspection,
                channel=Channel.schedule,
                title="Quarterly comprehensive inspection: elevator · LIFT-1 (2026-12-01)",
                checklist=CHECKLISTS["elevator"],
                asset_id=lift["id"],
            ),
            actor="schedule",
            now=now,
            notifier=CollectingNotifier(),
        )
        users.create_user(s, "boss", PASSWORD, "manager", now=now)
        users.create_user(
            s, "zhang", PASSWORD, "technician", now=now, technician_id=technician["id"]
        )
        users.create_user(s, "resident", PASSWORD, "requester", now=now)
        s.add(
            Alarm(
                site="hepan",
                system="elevator",
                device_id="elevator-001",
                rule_id="elevator-trapped-passenger",
                severity="critical",
                message="Passenger trapped in the car",
                state=AlarmState.active_unacknowledged,
                raised_at=now,
                occurrences=1,
                values={},
                chattering=False,
                updated_at=now,
            )
        )
    gate = made("/locations", {"site_id": site["id"], "building": "大门"})
    patrol = made(
        "/patrols/rounds",
        {
            "site_id": site["id"],
            "name": "夜间巡更",
            "starts_on": "2020-01-01",
            "window_minutes": 60,
            "grace_minutes": 0,
            "points": [{"location_id": place["id"]}, {"location_id": gate["id"], "name": "大门"}],
        },
    )
    code = patrol["points"][0]["code"]
    CODES.update(p["code"] for p in patrol["points"])  # labels' codes: data in any language
    checked = api.post("/patrols/check-ins", data={"code": code, "observation": "正常"})
    assert checked.status_code == 201, checked.text
    return {
        "site": site["id"],
        "place": place["id"],
        "inspection": inspection.id,
        "round": patrol["id"],
        "run": checked.json()["run_id"],
        "code": patrol["points"][1]["code"],
    }


def _request(page: Page, base: str, ids: dict[str, int]) -> int:
    """The resident files a request in the page (its words are theirs, in Chinese)."""
    page.goto(f"{base}/console/requests/new")
    page.select_option("select[name=location_id]", str(ids["place"]))
    page.fill("input[name=title]", "厨房水龙头漏水")
    page.fill("textarea[name=description]", "水龙头在滴水")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/console/tickets/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def _leftovers(page: Page, language: str) -> list[str]:
    """The words of the other language in the page's text nodes and attributes."""
    texts: list[str] = page.evaluate(TEXTS)
    out = []
    for text in texts:
        if language == "zh-CN":
            for code in CODES:
                text = text.replace(code, "")
            out += [w for w in LATIN.findall(text) if w not in DATA_WORDS]
        else:
            out += [w for w in CJK.findall(text) if w not in DATA_CHINESE]
    return sorted(set(out))


def _cjk_fonts(page: Page, selector: str) -> dict[str, int]:
    """The fonts chromium drew an element's text with, and their glyph counts (DevTools)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return {f["familyName"]: f["glyphCount"] for f in fonts}


def _walk(page: Page, base: str, paths: list[str], language: str) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        page.goto(f"{base}{path}")
        expect(page.locator("html")).to_have_attribute("lang", language)
        found[path] = _leftovers(page, language)
    return found


def test_every_page_in_chinese_and_in_english(
    estate: tuple[Runtime, str, dict[str, int]],
    browser: Browser,  # noqa: F811
) -> None:
    runtime, base, ids = estate
    resident = browser.new_context(locale="en-US", **PHONE).new_page()  # type: ignore[arg-type]
    log_in(resident, base, "resident", PASSWORD)
    # A resident of a Chinese estate reads Chinese, though the phone asks for English.
    expect(resident.locator("html")).to_have_attribute("lang", "zh-CN")
    request = _request(resident, base, ids)
    resident_pages = ["/console/requests", "/console/requests/new", f"/console/tickets/{request}"]
    staff_pages = [
        "/console/alarms",
        "/console/sites",
        "/console/tickets",
        f"/console/tickets/{ids['inspection']}",
        "/console/devices/hepan/elevator/elevator-001",
        "/console/reports",
        "/console/no-such-page",
        "/console/patrols",
        f"/console/patrols/rounds/{ids['round']}/labels",
        f"/console/patrols/runs/{ids['run']}",
    ]
    technician_pages = [
        "/console/my",
        "/console/patrols",
        f"/console/patrols/check-in/{ids['code']}",
    ]
    for language, locale in (("zh-CN", "zh-CN"), ("en", "en-US")):
        context = browser.new_context(locale=locale)
        anonymous = context.new_page()
        assert _walk(anonymous, base, ["/console/login"], language) == {"/console/login": []}
        log_in(anonymous, base, "boss", PASSWORD)
        expected: dict[str, list[str]] = {path: [] for path in staff_pages}
        assert _walk(anonymous, base, staff_pages, language) == expected
        technician = browser.new_context(locale=locale, **PHONE).new_page()  # type: ignore[arg-type]
        log_in(technician, base, "zhang", PASSWORD)
        assert _walk(technician, base, technician_pages, language) == {
            p: [] for p in technician_pages
        }
        if language == "en":  # the resident chooses English in the console
            resident.select_option("#language", "en")
            expect(resident.locator("html")).to_have_attribute("lang", "en")
        assert _walk(resident, base, resident_pages, language) == {p: [] for p in resident_pages}
        context.close()

    # The Chinese words are drawn with the CJK font, every glyph found.
    page = browser.new_context(locale="zh-CN").new_page()
    log_in(page, base, "boss", PASSWORD)
    page.goto(f"{base}/console/alarms")
    expect(page.locator("h1")).to_contain_text("告警")
    fonts = _cjk_fonts(page, "h1")
    assert any("Noto Sans CJK" in name for name in fonts), fonts
    assert sum(n for name, n in fonts.items() if "Noto Sans CJK" in name) >= 2, fonts


def test_a_residents_request_and_rating_controls_fit_a_thumb(
    estate: tuple[Runtime, str, dict[str, int]],
    browser: Browser,  # noqa: F811
) -> None:
    runtime, base, ids = estate
    page = browser.new_context(locale="zh-CN", **PHONE).new_page()  # type: ignore[arg-type]
    log_in(page, base, "resident", PASSWORD)
    page.goto(f"{base}/console/requests/new")
    expect(page.locator("h1")).to_have_text("我要报事")
    for selector in ("select[name=type]", "input[name=title]", "button[type=submit]"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["height"] >= 48 and box["width"] >= 300, (selector, box)
    request = _request(page, base, ids)
    api = TestClient(create_app(runtime), headers={"X-API-Key": api_key(runtime.database)})
    tech = api.get("/technicians").json()[0]["id"]
    for action in ("assign", "accept", "start", "resolve"):
        current = api.get(f"/tickets/{request}").json()
        if action == "assign" and current["state"] != "new":
            continue  # dispatched on filing
        body = {"action": action, "actor": "zhang", "expected_version": current["version"]}
        body |= {"technician_id": tech} if action == "assign" else {}
        body |= {"note": "换了阀芯"} if action == "resolve" else {}
        soon = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
        body |= {"committed_at": soon} if action == "accept" else {}
        moved = api.post(f"/tickets/{request}/transitions", json=body)
        assert moved.status_code == 200, moved.text
    page.goto(f"{base}/console/tickets/{request}")
    expect(page.locator("#rating h2, section h2").first).to_be_visible()
    expect(page.locator("section", has_text="您对本次服务满意吗？")).to_be_visible()
    stars = page.locator("fieldset.stars label")
    assert stars.count() == 5
    for n in range(5):
        box = stars.nth(n).bounding_box()
        assert box is not None and box["height"] >= 48 and box["width"] >= 48, (n, box)
    rate = page.locator("#rating button[type=submit]").bounding_box()
    assert rate is not None and rate["height"] >= 48

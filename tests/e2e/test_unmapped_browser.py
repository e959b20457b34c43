"""The unmapped-devices page in a real browser (Debian's chromium, headless, by Playwright): a
gateway device nobody mapped is listed with its held messages, last payload and metrics; an
admin maps it to an asset in the page, and its held messages land once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, expect

from api.main import create_app
from api.runtime import Runtime
from api.settings import Settings
from maintenance.assets.schemas import AssetCreate, SiteCreate
from maintenance.assets.service import create_site, save_asset
from maintenance.storage.db import migrate
from tests.e2e.test_console_browser import PASSWORD, browser, log_in
from tests.integration.api.test_unmapped_devices import SOURCES, pressures, publish
from tests.servers import Mosquitto, free_port, wait_until

pytestmark = pytest.mark.integration
__all__ = ["browser"]  # the shared Chromium, a module fixture


@pytest.fixture
def console(tmp_path: Path, mosquitto: Mosquitto) -> Iterator[tuple[Runtime, str, int]]:
    """The whole service with a sources file, on a real HTTP port; one asset to map to."""
    sources = tmp_path / "sources.yaml"
    sources.write_text(SOURCES)
    settings = Settings(
        state_dir=tmp_path / "state",
        mqtt_url=mosquitto.url,
        sources_file=sources,
        demo_fleet=False,
        plan_generation=False,
        admin_password=PASSWORD,
        mqtt_client_id="collector-unmapped-browser",
    )
    runtime = Runtime(settings)
    migrate(runtime.engine)
    with runtime.database.transaction() as s:
        site = create_site(s, SiteCreate(code="tower-a", name="Tower A"))
        asset = save_asset(
            s,
            AssetCreate(
                site_id=site.id, code="PUMP-9", name="Booster pump 9", system="water", type="pump"
            ),
        )
        asset_id = asset.id
    runtime.start()
    wait_until(runtime.ingest.subscriber.subscribed.is_set, 10, "the collector's subscription")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "the HTTP server")
    yield runtime, f"http://127.0.0.1:{port}", asset_id
    server.should_exit = True
    thread.join(10)
    runtime.stop()


def test_an_admin_maps_a_held_device_in_the_page_and_its_messages_land_once(
    console: tuple[Runtime, str, int], browser: Browser, mosquitto: Mosquitto
) -> None:
    runtime, base, asset_id = console
    now = int(time.time() * 1000)
    for i in range(3):
        body = {"pump-9": [{"ts": now + i, "values": {"40001": 400 + i, "running_hours": 7}}]}
        publish(mosquitto.port, "v1/gateway/telemetry", body)
    collector = runtime.ingest.collector
    wait_until(lambda: collector.stats.dead_lettered == 3, 10, "three held messages")

    page = browser.new_context(viewport={"width": 1600, "height": 900}).new_page()
    log_in(page, base, "admin", PASSWORD)
    expect(page).to_have_url(f"{base}/console/alarms")
    page.click("nav >> text=Unmapped devices")
    expect(page).to_have_url(f"{base}/console/devices/unmapped")
    row = page.locator("table.unmapped tbody tr[data-device='pump-9']")
    expect(row).to_have_count(1)
    expect(row.locator("th")).to_contain_text("source plant · v1/gateway/telemetry")
    expect(row.locator("td.held")).to_contain_text("3 held")
    expect(row.locator("td.metrics")).to_have_text("40001, running_hours")
    expect(row.locator("pre.payload")).to_contain_text('"40001": 402.0')
    expect(row.locator("select[name=asset_id] option")).to_have_text(
        ["PUMP-9 Booster pump 9 (tower-a, water)"]
    )
    assert row.locator("select[name=asset_id]").input_value() == str(asset_id)

    row.locator("button[type=submit]").click()
    expect(page.locator("#notice.ok")).to_have_text(
        "pump-9 is now pump-9 of PUMP-9 (tower-a, water): 3 held messages brought in"
    )
    expect(row).to_have_count(0)
    wait_until(lambda: len(pressures(runtime, "pump-9")) == 3, 10, "the replayed points")
    assert pressures(runtime, "pump-9") == [(now, 4.0), (now + 1, 4.01), (now + 2, 4.02)]

    page.reload()  # held no more: nothing to map, and nothing replayed twice
    expect(page.locator("table.unmapped tbody")).to_contain_text("No unmapped devices")
    assert collector.stats.replayed == 3
    assert len(pressures(runtime, "pump-9")) == 3

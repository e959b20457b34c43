"""Every CSV and spreadsheet the service writes holds formula-leading texts as inert text
(OWASP CSV injection): the ledger export (API and CLI), the report CSVs and the Excel workbooks,
on both database backends."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
from fastapi.testclient import TestClient

from api.main import create_app
from maintenance.alarms.models import Alarm
from maintenance.assets.schemas import AssetCreate, LocationCreate, SiteCreate
from maintenance.assets.service import create_location, create_site, save_asset
from maintenance.cells import FORMULA_LEADS
from maintenance.storage.db import Database
from maintenance.vocabulary import Channel, Priority, TicketState, TicketType
from maintenance.work_orders import failures
from maintenance.work_orders.models import Ticket
from tests.helpers import authorized
from tests.integration.api.test_tickets_api import make_runtime

LINK = '=HYPERLINK("http://x")'
SUM = "@SUM(1)"
CMD = "-2+3+cmd|' /C calc'!A0"
PLUS = "+1+1"
START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)
NOW = datetime(2027, 1, 15, tzinfo=UTC)


def hostile_ledger(db: Database) -> None:
    """A site, an asset and tickets whose free texts are formulas; a failure of the asset from
    an alarm whose rule id is one, so the report's groups and causes carry them too."""
    with db.transaction() as s:
        site = create_site(s, SiteCreate(code="estate-1", name=LINK))
        room = create_location(s, LocationCreate(site_id=site.id, building=SUM, room="\t=1+1"))
        asset = save_asset(
            s,
            AssetCreate(
                site_id=site.id,
                code="LIFT-1",
                name=LINK,
                system="elevator",
                type=SUM,
                model=PLUS,
                vendor=CMD,
                location_id=room.id,
            ),
        )
        alarm = Alarm(
            site="estate-1",
            system="elevator",
            device_id="elevator-001",
            rule_id=CMD,
            asset_id=asset.id,
            severity="critical",
            message=LINK,
            occurrences=1,
            values={},
            chattering=False,
            clear_held=False,
            updated_at=NOW,
        )
        s.add(alarm)
        s.flush()
        made = datetime(2026, 11, 3, 10, tzinfo=UTC)
        tickets = [
            Ticket(
                site_id=site.id,
                asset_id=asset.id,
                channel=Channel.app,
                priority=Priority.normal,
                state=TicketState.in_progress,
                title=title,
                escalated=False,
                reopen_count=0,
                assignment_reason="",
                type=kind,
                source_ref=ref,
                fault=fault,  # an alarm ticket's: its rule, named by the alarm stage
                created_at=made,
                updated_at=made,
            )
            for title, kind, ref, fault in [
                (LINK, TicketType.repair, None, None),
                (SUM, TicketType.alarm, f"alarm:{alarm.id}:1", CMD),
            ]
        ]
        failures.classify(s, tickets)
        s.add_all(tickets)


def assert_inert_csv(text: str, *expected: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    cells = [c for row in rows for c in row]
    for cell in cells:
        assert not cell.startswith(FORMULA_LEADS), (cell, text)
    for value in expected:
        assert "'" + value in cells, (value, text)
    return rows


def assert_inert_xlsx(data: bytes, *expected: str) -> None:
    book = openpyxl.load_workbook(io.BytesIO(data))
    seen: list[object] = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_LEADS), cell.value
                seen.append(cell.value)
    for value in expected:
        assert "'" + value in seen, (value, seen)


def test_no_export_holds_a_formula(database: Database, tmp_path: Path) -> None:
    hostile_ledger(database)
    runtime = make_runtime(database, tmp_path)
    app = create_app(runtime)
    app.state.clock = lambda: NOW
    client = authorized(TestClient(app), runtime.database)
    period = {"start": START.isoformat(), "end": END.isoformat()}
    by_type = {**period, "group_by": "asset_type"}
    try:
        ledger = client.get("/assets.csv")
        assert ledger.status_code == 200
        rows = assert_inert_csv(ledger.text, LINK, SUM, PLUS, CMD, "\t=1+1")
        assert rows[1][:7] == [
            "estate-1",
            "LIFT-1",
            "'" + LINK,
            "elevator",
            "'" + SUM,
            "'" + PLUS,
            "'" + CMD,
        ]

        trend = client.get("/reports/failures", params={**by_type, "format": "csv"})
        assert trend.status_code == 200
        assert assert_inert_csv(trend.text, SUM)[1] == ["2026-11", "'" + SUM, "2", "1", "2.0000"]
        quality = client.get("/reports/service-quality", params={**period, "format": "csv"})
        assert quality.status_code == 200
        assert_inert_csv(quality.text)

        for params in ({**by_type, "format": "xlsx"}, {**period, "format": "xlsx"}):
            workbook = client.get("/reports/failures", params=params)
            assert workbook.status_code == 200
            assert_inert_xlsx(workbook.content, CMD)
        by_type_book = client.get("/reports/failures", params={**by_type, "format": "xlsx"})
        assert_inert_xlsx(by_type_book.content, SUM, CMD)
        quality_book = client.get("/reports/service-quality", params={**period, "format": "xlsx"})
        assert quality_book.status_code == 200
        assert_inert_xlsx(quality_book.content)
        quarterly = client.get(
            "/reports/quarterly", params={"year": 2026, "quarter": 4, "format": "xlsx"}
        )
        assert quarterly.status_code == 200
        assert_inert_xlsx(quarterly.content, CMD)

        # What the ledger export wrote imports back as the same asset with the same texts.
        again = client.post(
            "/assets/import", content=ledger.text, headers={"Content-Type": "text/csv"}
        )
        assert again.status_code == 200, again.text
        assert (again.json()["created"], again.json()["updated"]) == (0, 1)
        assets = client.get("/assets").json()
        assert [(a["name"], a["type"], a["model"], a["vendor"]) for a in assets] == [
            (LINK, SUM, PLUS, CMD)
        ]
    finally:
        runtime.stop()

    exported = subprocess.run(
        [sys.executable, "-m", "api.cli", "assets", "export"],
        env={
            **os.environ,
            "FACILITY_STATE_DIR": str(tmp_path / "state"),
            "FACILITY_DATABASE_URL": database.engine.url.render_as_string(hide_password=False),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == ledger.text

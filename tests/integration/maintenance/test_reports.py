"""Report figures against values computed by hand on a fixed data set (both backends)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from maintenance.alarms.models import Alarm
from maintenance.reports.failures import failure_report
from maintenance.reports.quality import _kpi, quality_report
from maintenance.scope import EVERYTHING
from maintenance.storage.db import Database
from maintenance.vocabulary import Channel, Priority, TicketState, TicketType
from maintenance.work_orders import failures
from maintenance.work_orders.models import Ticket
from tests.helpers import authorized
from tests.integration.api.test_tickets_api import make_runtime
from tests.ledger import Ledger, seed

START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)  # 61 days = 1464 hours
NOW = datetime(2026, 12, 15, tzinfo=UTC)


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def ledger(database: Database) -> Ledger:
    return seed(database)


def add(db: Database, **fields: Any) -> None:
    values: dict[str, Any] = {
        "site_id": 1,
        "channel": Channel.app,
        "priority": Priority.normal,
        "state": TicketState.in_progress,
        "title": "t",
        "escalated": False,
        "reopen_count": 0,
        "assignment_reason": "",
        **fields,
    }
    values.setdefault("updated_at", values["created_at"])
    with db.transaction() as s:
        ticket = Ticket(**values)
        failures.classify(s, [ticket])  # as intake does
        s.add(ticket)


def alarm(db: Database, rule: str, asset: int) -> int:
    with db.transaction() as s:
        row = Alarm(
            site="estate-1",
            system="x",
            device_id=f"d-{rule}",
            rule_id=rule,
            asset_id=asset,
            severity="critical",
            message="",
            occurrences=1,
            values={},
            chattering=False,
            clear_held=False,
            updated_at=NOW,
        )
        s.add(row)
        s.flush()
        return row.id


def test_failure_trend_mtbf_mttr_repeats_and_causes(database: Database, ledger: Ledger) -> None:
    trapped, leak = (
        alarm(database, "elevator-trapped", ledger.lift),
        alarm(database, "water-leak", ledger.pump),
    )
    lift, pump, camera = ledger.lift, ledger.pump, ledger.camera
    repair, alarm_type = TicketType.repair, TicketType.alarm
    add(
        database, asset_id=lift, type=repair, created_at=at(10, 3), resolved_at=at(10, 3, 14)
    )  # 4 h
    add(
        database, asset_id=lift, type=repair, created_at=at(10, 20), resolved_at=at(10, 21)
    )  # 24 h, repeat
    add(
        database,
        asset_id=lift,
        type=alarm_type,
        source_ref=f"alarm:{trapped}:1",
        fault="elevator-trapped",
        created_at=at(11, 5),
        resolved_at=at(11, 5, 12),
    )  # 2 h
    add(
        database,
        asset_id=pump,
        type=alarm_type,
        source_ref=f"alarm:{leak}:1",
        fault="water-leak",
        created_at=at(11, 10),
    )
    add(database, asset_id=pump, type=repair, created_at=at(11, 30), state=TicketState.cancelled)
    add(database, asset_id=camera, type=repair, created_at=at(9, 15))  # before the period
    add(
        database,
        asset_id=lift,
        type=alarm_type,
        source_ref=f"alarm:{trapped}:2",
        fault="elevator-trapped",
        created_at=at(11, 25),
    )  # repeat
    add(database, asset_id=lift, type=TicketType.inspection, created_at=at(10, 7))  # not a failure
    with database.read() as s:
        report = failure_report(s, start=START, end=END, scope=EVERYTHING, group_by="system")
    assert [(r.month, r.group, r.failures, r.assets) for r in report.trend] == [
        ("2026-10", "elevator", 2, 1),
        ("2026-11", "elevator", 2, 1),
        ("2026-11", "water", 1, 1),
    ]
    figures = {
        g.group: (g.failures, g.mtbf_hours, g.mttr_hours, g.repeat_failures) for g in report.groups
    }
    assert figures == {
        "camera": (0, None, None, 0),
        "elevator": (4, 366.0, 10.0, 2),  # 1464 h / 4; (4 + 24 + 2) / 3 resolved
        "water": (1, 1464.0, None, 0),
    }
    # most failures first, a tie in the order of the fault names; a person's repair request
    # records no cause, so it is not one
    assert report.top_causes == [("elevator-trapped", 2), ("water-leak", 1)]
    # a quarter under way: MTBF over the hours so far, not the days still to come
    with database.read() as s:
        so_far = failure_report(
            s,
            start=START,
            end=END,
            scope=EVERYTHING,
            group_by="system",
            now=START + (END - START) / 2,
        )
    assert {g.group: g.mtbf_hours for g in so_far.groups}["water"] == 732.0
    with database.read() as s:
        by_type = failure_report(s, start=START, end=END, scope=EVERYTHING, group_by="asset_type")
    assert {g.group: g.failures for g in by_type.groups} == {
        "booster pump": 1,
        "dome camera": 0,
        "traction lift": 4,
    }


def test_service_quality_against_the_targets(database: Database, ledger: Ledger) -> None:
    repair, complaint = TicketType.repair, TicketType.complaint
    # a: responded on time, resolved late, rated 5
    add(
        database,
        type=repair,
        created_at=at(10, 1),
        response_due=at(10, 2),
        responded_at=at(10, 2, 9),
        resolution_due=at(10, 3),
        resolved_at=at(10, 4),
        satisfaction=5,
    )
    # b: neither in time (both due dates passed, nothing done)
    add(
        database,
        type=repair,
        created_at=at(10, 4),
        response_due=at(10, 5),
        resolution_due=at(10, 6),
    )
    # c: a complaint answered within its 24 h, rated 3
    add(
        database,
        type=complaint,
        created_at=at(10, 9, 1),
        response_due=at(10, 10),
        responded_at=at(10, 9, 20),
        satisfaction=3,
    )
    # d: a complaint still inside its 24 h at `now`: not decided, not counted for handling
    add(
        database,
        type=complaint,
        created_at=at(11, 30),
        response_due=datetime(2026, 12, 20, tzinfo=UTC),
    )
    # e: a suggestion, rated 4
    add(database, type=TicketType.suggestion, created_at=at(10, 12), satisfaction=4)
    # f: an alarm ticket done in time
    add(
        database,
        type=TicketType.alarm,
        created_at=at(10, 31),
        response_due=at(11, 1),
        responded_at=at(10, 31, 11),
        resolution_due=at(11, 2),
        resolved_at=at(11, 1),
    )
    # g: cancelled: left out of everything
    add(
        database,
        type=repair,
        created_at=at(10, 2),
        response_due=at(10, 3),
        state=TicketState.cancelled,
    )
    with database.read() as s:
        report = quality_report(s, start=START, end=END, now=NOW, scope=EVERYTHING)
    kpis = {k.name: (k.numerator, k.denominator, k.status) for k in report.kpis}
    assert kpis == {
        "response_on_time": (3, 4, "below_target"),  # a, c, f of a, b, c, f
        "resolution_on_time": (1, 3, "below_target"),  # f of a, b, f
        "complaint_handling_on_time": (1, 1, "ok"),  # c; d not decided yet
        "complaint_rate": (2, 5, "below_target"),  # c, d of a, b, c, d, e
        "satisfied": (2, 3, "below_target"),  # a (5), e (4) of a, c, e
        "pm_compliance": (0, 0, "no_data"),
    }
    assert report.average_rating == pytest.approx(4.0)


def test_early_warning_is_within_five_points_of_the_target() -> None:
    assert _kpi("x", 92, 100, 0.90).status == "warning"
    assert _kpi("x", 96, 100, 0.90).status == "ok"
    assert _kpi("x", 89, 100, 0.90).status == "below_target"
    assert _kpi("rate", 3, 100, 0.05, higher_is_better=False).status == "warning"
    assert _kpi("rate", 0, 100, 0.05, higher_is_better=False).status == "ok"
    assert _kpi("rate", 5, 100, 0.05, higher_is_better=False).status == "below_target"


def test_reports_over_http_as_json_and_csv(
    database: Database, ledger: Ledger, tmp_path: Path
) -> None:
    add(
        database,
        asset_id=ledger.lift,
        type=TicketType.repair,
        created_at=at(10, 3),
        resolved_at=at(10, 3, 14),
    )
    runtime = make_runtime(database, tmp_path)
    client = authorized(TestClient(create_app(runtime)), runtime.database)
    try:
        period = {"start": START.isoformat(), "end": END.isoformat()}
        body = client.get("/reports/failures", params=period).json()
        assert body["trend"] == [
            {
                "month": "2026-10",
                "group": "elevator",
                "failures": 1,
                "assets": 1,
                "failures_per_asset": 1.0,
            }
        ]
        csv = client.get("/reports/failures", params={**period, "format": "csv"})
        assert csv.headers["content-type"].startswith("text/csv")
        assert csv.text.splitlines() == [
            "month,system,failures,assets,failures_per_asset",
            "2026-10,elevator,1,1,1.0000",
        ]
        quality = client.get("/reports/service-quality", params={**period, "format": "csv"})
        assert quality.text.splitlines()[0] == "kpi,value,target,status,numerator,denominator"
        # Words instead of field names, on request, in the reader's language.
        words = {**period, "format": "csv", "headers": "words"}
        chinese = {"Accept-Language": "zh-CN"}
        csv = client.get("/reports/failures", params=words, headers=chinese)
        # a person's spreadsheet: a byte-order mark first, by which Excel reads UTF-8
        assert csv.content.startswith("\ufeff月份,".encode())
        assert csv.text.splitlines()[0] == "\ufeff月份,系统,故障数,设备数,单台设备故障数"
        quality = client.get("/reports/service-quality", params=words, headers=chinese)
        assert quality.text.splitlines()[0] == "\ufeff指标,数值,目标,状态,达标数,统计数"
        english = client.get("/reports/service-quality", params=words)
        assert english.text.splitlines()[0] == "\ufeffMeasure,Value,Target,Status,Met,Counted"
        naive = client.get(
            "/reports/service-quality",
            params={"start": "2026-10-01T00:00:00", "end": END.isoformat()},
        )
        assert naive.status_code == 422 and naive.json()["detail"][0]["loc"] == ["query", "start"]
    finally:
        runtime.stop()


def test_quarterly_report_as_json_page_excel_and_pdf(
    database: Database, ledger: Ledger, tmp_path: Path
) -> None:
    # Q4: one repair on the lift, answered in time, resolved in 4 h, rated 5.
    add(
        database,
        asset_id=ledger.lift,
        type=TicketType.repair,
        created_at=at(10, 3),
        response_due=at(10, 3, 11),
        responded_at=at(10, 3, 10),
        resolution_due=at(10, 5),
        resolved_at=at(10, 3, 14),
        satisfaction=5,
    )
    # Q3: one repair answered late (the previous quarter, beside this one).
    add(
        database,
        type=TicketType.repair,
        created_at=at(8, 3),
        response_due=at(8, 3, 11),
        responded_at=at(8, 3, 15),
    )
    runtime = make_runtime(database, tmp_path)
    app = create_app(runtime)
    app.state.clock = lambda: NOW
    client = authorized(TestClient(app), runtime.database)
    quarter = {"year": 2026, "quarter": 4}
    try:
        body = client.get("/reports/quarterly", params={**quarter, "format": "json"}).json()
        assert body["title"] == "Service quality 2026 Q4"
        assert body["start"] == "2026-10-01T00:00:00Z" and body["end"] == "2027-01-01T00:00:00Z"
        kpis = {k["name"]: k for k in body["kpis"]}
        before = {k["name"]: k for k in body["previous_kpis"]}
        assert (kpis["response_on_time"]["value"], kpis["response_on_time"]["status"]) == (
            1.0,
            "ok",
        )
        assert (
            before["response_on_time"]["numerator"],
            before["response_on_time"]["denominator"],
        ) == (0, 1)
        assert (kpis["satisfied"]["numerator"], kpis["satisfied"]["denominator"]) == (1, 1)
        elevator = next(g for g in body["groups"] if g["group"] == "elevator")
        assert (elevator["failures"], elevator["mttr_hours"]) == (1, 4.0)

        page = client.get("/reports/quarterly", params=quarter)
        assert page.headers["content-type"].startswith("text/html")
        assert "<h1>Service quality 2026 Q4</h1>" in page.text
        assert '<td class="num ok">100.0%</td>' in page.text  # response on time
        assert '<td class="num">0.0%</td>' in page.text  # the previous quarter's response
        assert page.text.count("<svg") == 2  # KPI bars and the failure trend

        xlsx = client.get("/reports/quarterly", params={**quarter, "format": "xlsx"})
        book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
        assert book.sheetnames == [
            "Service quality",
            "Failure trend",
            "By system",
            "Top causes",
            "Compliance",
        ]
        rows = list(book["Service quality"].iter_rows(values_only=True))
        assert rows[0] == ("Measure", "Value", "Target", "Status", "Met", "Counted")
        assert rows[1] == ("Response on time", 1.0, 0.95, "ok", 1, 1)
        assert list(book["Failure trend"].iter_rows(values_only=True))[1:] == [
            ("2026-10", "elevator", 1, 1, 1.0)
        ]
        assert book["Service quality"]["B2"].number_format == "0.0%"

        pdf = client.get("/reports/quarterly", params={**quarter, "format": "pdf"})
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-") and b"%%EOF" in pdf.content[-64:]
        assert (
            pdf.headers["content-disposition"] == 'inline; filename="service-quality-2026-q4.pdf"'
        )

        bad = client.get("/reports/quarterly", params={"year": 2026, "quarter": 5})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "quarter"]
        failures = client.get(
            "/reports/failures",
            params={"start": START.isoformat(), "end": END.isoformat(), "format": "xlsx"},
        )
        sheets = openpyxl.load_workbook(io.BytesIO(failures.content)).sheetnames
        assert sheets == ["Failure trend", "By system", "Top causes"]

        chinese = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
        xlsx = client.get(
            "/reports/quarterly", params={**quarter, "format": "xlsx"}, headers=chinese
        )
        book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
        assert book.sheetnames == ["服务质量", "故障趋势", "按系统", "主要故障原因", "合规情况"]
        rows = list(book["服务质量"].iter_rows(values_only=True))
        assert rows[0] == ("指标", "数值", "目标", "状态", "达标数", "统计数")
        assert rows[1] == ("及时响应率", 1.0, 0.95, "达标", 1, 1)
        assert list(book["故障趋势"].iter_rows(values_only=True))[1:] == [
            ("2026-10", "电梯", 1, 1, 1.0)
        ]
        page = client.get("/reports/quarterly", params=quarter, headers=chinese)
        assert "<h1>2026 年第 4 季度服务质量报告</h1>" in page.text
        assert '<td class="num ok">100.0%</td>' in page.text
        assert '<html lang="zh-CN">' in page.text
    finally:
        runtime.stop()


def test_compliance_by_programme_over_http_excel_pdf_and_the_console(
    database: Database, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    from tests.integration.maintenance.test_programmes import one_pump, plan, resolve, run

    one_pump(database)
    pump = plan(
        database,
        name="Pump check",
        starts_on="2027-01-31",
        early_days=3,
        late_days=3,
        regulated=True,
        standard={"id": "CJJ 140-2010", "clause": "10"},
    )
    now = datetime(2027, 5, 28, tzinfo=UTC)
    assert run(database, now) == 5
    resolve(database, pump, "2027-01-31", datetime(2027, 2, 3, 15, 59, tzinfo=UTC))  # in window
    resolve(database, pump, "2027-02-28", datetime(2027, 3, 3, 16, 1, tzinfo=UTC))  # late
    resolve(database, pump, "2027-03-31", datetime(2027, 3, 27, 15, tzinfo=UTC))  # early
    runtime = make_runtime(database, tmp_path)
    app = create_app(runtime)
    app.state.clock = lambda: now
    client = authorized(TestClient(app), runtime.database)
    half = {"start": "2027-01-01T00:00:00Z", "end": "2027-07-01T00:00:00Z"}
    try:
        body = client.get("/reports/compliance", params=half).json()
        assert body == [
            {
                "site_id": 1,
                "site": "East",
                "plan_id": pump,
                "programme": "Pump check",
                "title": "Pump check",
                "standard": "CJJ 140-2010 · 10",
                "regulated": True,
                "due": 5,
                "in_window": 1,
                "early": 1,
                "late": 1,
                "missed": 1,
                "open": 1,
                "share_in_window": 0.25,
            }
        ]
        csv = client.get("/reports/compliance", params={**half, "format": "csv"})
        assert csv.text.splitlines() == [
            "site,title,standard,due,in_window,early,late,missed,open,share_in_window",
            "East,Pump check,CJJ 140-2010 · 10,5,1,1,1,1,1,0.2500",
        ]
        xlsx = client.get("/reports/compliance", params={**half, "format": "xlsx"})
        rows = list(openpyxl.load_workbook(io.BytesIO(xlsx.content))["Compliance"].values)
        assert rows == [
            (
                "Site",
                "Programme",
                "Standard",
                "Due",
                "Done in window",
                "Done early",
                "Done late",
                "Missed",
                "Open",
                "In window",
            ),
            ("East", "Pump check", "CJJ 140-2010 · 10", 5, 1, 1, 1, 1, 1, 0.25),
        ]
        # Q2: the windows that close in it (Mar 31's on Apr 3, Apr 30's, May 31's)
        q2 = {"year": 2027, "quarter": 2}
        quarter = client.get("/reports/quarterly", params={**q2, "format": "json"}).json()
        (row,) = quarter["compliance"]
        assert (row["due"], row["early"], row["missed"], row["open"]) == (3, 1, 1, 1)
        assert row["share_in_window"] == 0.0
        cells = (
            f'<tr class="programme-{pump}"><td>East</td><td>Pump check</td>'
            '<td>CJJ 140-2010 · 10</td><td class="num">3</td><td class="num">0</td>'
            '<td class="num">1</td><td class="num">0</td><td class="num below_target">1</td>'
            '<td class="num">1</td><td class="num">0.0%</td></tr>'
        )
        assert cells in client.get("/reports/quarterly", params=q2).text
        pdf = client.get("/reports/quarterly", params={**q2, "format": "pdf"})
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "Compliance by programme" in text and "East Pump check" in text
        assert "3 0 1 0 1 1 0.0%" in text  # due, in window, early, late, missed, open, share
        console = client.get("/console/reports", params=q2)
        assert console.status_code == 200 and cells in console.text
        chinese = client.get("/console/reports", params=q2, headers={"Accept-Language": "zh-CN"})
        assert "各项计划的合规情况" in chinese.text and "<th>依据标准</th>" in chinese.text
        book = openpyxl.load_workbook(
            io.BytesIO(
                client.get(
                    "/reports/compliance",
                    params={**half, "format": "xlsx"},
                    headers={"Accept-Language": "zh-CN"},
                ).content
            )
        )
        assert next(book["合规情况"].values)[:4] == ("项目", "计划", "依据标准", "应做")
    finally:
        runtime.stop()

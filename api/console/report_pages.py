"""The managers' page: the quarter's KPIs and failure trend as charts, and the downloads."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from api.auth import OFFICE, Principal
from api.console.render import page
from api.console.session import viewer
from api.deps import DatabaseDep, NowDep
from api.documents.quarterly import kpi_chart, report_title, trend_chart
from maintenance.alarms import findings
from maintenance.plans.defaults import shipped_title
from maintenance.reports.quarterly import quarterly_report

router = APIRouter()
Office = Annotated[Principal, Depends(viewer(OFFICE))]


@router.get("/console/reports", response_class=HTMLResponse)
def reports_page(
    request: Request,
    db: DatabaseDep,
    now: NowDep,
    me: Office,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
) -> HTMLResponse:
    year = year or now.year
    quarter = quarter or (now.month - 1) // 3 + 1
    with db.read() as s:
        report = quarterly_report(s, year=year, quarter=quarter, now=now, scope=me.scope)
        per_model, _ = findings.counts(s, scope=me.scope, since=report.start, until=report.end)
    return page(
        request,
        "reports.html",
        me,
        r=report,
        report_title=report_title,
        kpi_chart=kpi_chart,
        programme_title=shipped_title,
        trend_chart=trend_chart,
        findings=per_model,
        query=urlencode({"year": year, "quarter": quarter}),
        period=urlencode({"start": report.start.isoformat(), "end": report.end.isoformat()}),
    )

"""Manager reports: failure-rate trends, service quality and the quarterly report, as JSON,
CSV, Excel, a printable page or PDF."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import AwareDatetime

from api.auth import PrincipalDep
from api.deps import DatabaseDep, NowDep
from api.documents import excel
from api.documents.quarterly import render_html, render_pdf
from api.documents.words import column_words
from api.language import display_zone, request_language
from maintenance.alarms import findings
from maintenance.cells import inert_row
from maintenance.errors import InvalidInput
from maintenance.language import catalogue, formats
from maintenance.plans.defaults import shipped_title
from maintenance.reports.compliance import ProgrammeCompliance, compliance_view
from maintenance.reports.failures import FailureReport, GroupBy, failure_report
from maintenance.reports.quality import quality_report
from maintenance.reports.quarterly import quarterly_report
from maintenance.vocabulary import Id

router = APIRouter(tags=["reports"])
Format = Annotated[
    Literal["json", "csv", "xlsx"], Query(description="csv or xlsx (Excel) for spreadsheets")
]
Headers = Annotated[
    Literal["fields", "words"],
    Query(description="CSV header row: field names (programs) or words in the reader's language"),
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCUMENTS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {},
            XLSX: {},
            "text/html": {},
            "application/pdf": {},
        }
    }
}


def _xlsx(name: str, data: bytes) -> Response:
    return Response(
        data,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


@contextmanager
def _reader(request: Request, me: PrincipalDep) -> Iterator[None]:
    """Documents are said in their reader's language and the sites' time zone."""
    with catalogue.using(request_language(request, me.language)):
        with formats.in_zone(display_zone(request, me.scope.site_ids)):
            yield


def _header(request: Request, me: PrincipalDep, headers: str, fields: list[str]) -> list[str]:
    if headers == "fields":
        return fields
    with _reader(request, me):
        return column_words(fields)


def _period(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("start", "start and end need a time zone offset")
    if end <= start:
        raise InvalidInput("end", "end must be after start")


def _csv(name: str, header: list[str], rows: list[list[Any]], *, people: bool) -> Response:
    """`people`: headers in words for a spreadsheet, so a byte-order mark first (Excel reads
    UTF-8 by it, not the charset); a program's file (field names) has none."""
    out = io.StringIO()
    if people:
        out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(inert_row(header))
    writer.writerows(inert_row(row) for row in rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get("/reports/failures", responses=DOCUMENTS)
def failures(
    request: Request,
    me: PrincipalDep,
    db: DatabaseDep,
    now: NowDep,
    start: AwareDatetime,
    end: AwareDatetime,
    group_by: GroupBy = "system",
    site_id: Id | None = None,
    format: Format = "json",
    headers: Headers = "fields",
) -> Any:
    """Failures (alarm and repair tickets) per asset per month, MTBF, MTTR, repeat failures
    (same asset and fault within 30 days) and top causes. CSV: the monthly trend."""
    _period(start, end)
    with db.read() as s:
        report = failure_report(
            s,
            start=start,
            end=end,
            scope=me.scope,
            group_by=group_by,
            site_id=site_id,
            now=now,
        )
    if format == "xlsx":
        with _reader(request, me):
            return _xlsx("failures", excel.workbook(failures=report))
    if format == "csv":
        return _csv(
            "failure-trend",
            _header(
                request,
                me,
                headers,
                ["month", group_by, "failures", "assets", "failures_per_asset"],
            ),
            [
                [r.month, r.group, r.failures, r.assets, f"{r.failures_per_asset:.4f}"]
                for r in report.trend
            ],
            people=headers == "words",
        )
    return {
        "start": report.start,
        "end": report.end,
        "group_by": report.group_by,
        **_failure_figures(report),
    }


def _failure_figures(report: FailureReport) -> dict[str, Any]:
    return {
        "trend": [asdict(r) for r in report.trend],
        "groups": [asdict(g) for g in report.groups],
        "top_causes": [{"fault": f, "failures": n} for f, n in report.top_causes],
    }


@router.get("/reports/service-quality", responses=DOCUMENTS)
def service_quality(
    request: Request,
    me: PrincipalDep,
    db: DatabaseDep,
    now: NowDep,
    start: AwareDatetime,
    end: AwareDatetime,
    site_id: Id | None = None,
    format: Format = "json",
    headers: Headers = "fields",
) -> Any:
    """Response and resolution on time, complaint handling on time (target 90 %), complaint
    rate, satisfaction (target 80 % satisfied) and PM compliance, each against its target with
    its early-warning status (ok, warning, below_target, no_data)."""
    _period(start, end)
    with db.read() as s:
        report = quality_report(s, start=start, end=end, now=now, scope=me.scope, site_id=site_id)
    if format == "xlsx":
        with _reader(request, me):
            return _xlsx("service-quality", excel.workbook(quality=report))
    if format == "csv":
        return _csv(
            "service-quality",
            _header(
                request,
                me,
                headers,
                ["kpi", "value", "target", "status", "numerator", "denominator"],
            ),
            [
                [
                    k.name,
                    "" if k.value is None else f"{k.value:.4f}",
                    k.target,
                    k.status,
                    k.numerator,
                    k.denominator,
                ]
                for k in report.kpis
            ],
            people=headers == "words",
        )
    return {
        "start": report.start,
        "end": report.end,
        "average_rating": report.average_rating,
        "kpis": [asdict(k) for k in report.kpis],
    }


def _compliance_rows(rows: list[ProgrammeCompliance]) -> list[dict[str, Any]]:
    """In the current language (the programme's title)."""
    return [
        {
            **asdict(c),
            "title": shipped_title(c.programme),
            "share_in_window": c.share_in_window,
        }
        for c in rows
    ]


@router.get("/reports/compliance", responses=DOCUMENTS)
def compliance(
    request: Request,
    me: PrincipalDep,
    db: DatabaseDep,
    now: NowDep,
    start: AwareDatetime,
    end: AwareDatetime,
    site_id: Id | None = None,
    format: Format = "json",
    headers: Headers = "fields",
) -> Any:
    """Compliance per site and programme: occurrences whose tolerance window closes in
    [start, end): due, done in the window, done early, done late, missed and open, with the
    standard each programme comes from."""
    _period(start, end)
    with db.read() as s:
        rows = compliance_view(s, start=start, end=end, now=now, scope=me.scope, site_id=site_id)
    if format == "xlsx":
        with _reader(request, me):
            return _xlsx("compliance", excel.workbook(compliance=rows))
    with _reader(request, me):
        body = _compliance_rows(rows)
        words = excel.compliance_header()
    if format == "csv":
        fields = ["site", "title", "standard", "due", "in_window", "early", "late", "missed"]
        return _csv(
            "compliance",
            words if headers == "words" else [*fields, "open", "share_in_window"],
            [
                [
                    *(r[f] for f in fields),
                    r["open"],
                    "" if r["share_in_window"] is None else f"{r['share_in_window']:.4f}",
                ]
                for r in body
            ],
            people=headers == "words",
        )
    return body


@router.get("/reports/anomaly-findings")
def anomaly_findings(
    db: DatabaseDep,
    me: PrincipalDep,
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
) -> dict[str, Any]:
    """The anomaly models' findings as the technicians judged them when they resolved the
    predictive inspections (reviewed in [start, end), default: all): per model and version, and
    per device type, how many were confirmed faults and how many found no fault."""
    if start is not None and end is not None:
        _period(start, end)
    with db.read() as s:
        per_model, per_type = findings.counts(s, scope=me.scope, since=start, until=end)
    return {
        "models": [asdict(c) for c in per_model],
        "device_types": [
            {"system": c.system, "confirmed": c.confirmed, "no_fault_found": c.no_fault_found}
            for c in per_type
        ],
    }


@router.get("/reports/quarterly", responses=DOCUMENTS)
def quarterly(
    request: Request,
    me: PrincipalDep,
    db: DatabaseDep,
    now: NowDep,
    year: Annotated[int, Query(ge=2000, le=2100)],
    quarter: Annotated[int, Query(ge=1, le=4)],
    site_id: Id | None = None,
    format: Annotated[Literal["html", "pdf", "xlsx", "json"], Query()] = "html",
) -> Any:
    """The printable quarterly service-quality report: KPIs against targets with the previous
    quarter beside them, failures by system, the monthly trend and top causes; as a page to
    print (html), PDF, Excel or JSON."""
    with db.read() as s:
        report = quarterly_report(
            s, year=year, quarter=quarter, now=now, scope=me.scope, site_id=site_id
        )
    name = f"service-quality-{year}-q{quarter}"
    if format == "xlsx":
        with _reader(request, me):
            book = excel.workbook(
                quality=report.quality, failures=report.failures, compliance=report.compliance
            )
        return _xlsx(name, book)
    if format == "json":
        with _reader(request, me):
            titled = _compliance_rows(report.compliance)
        return {
            "title": report.title,
            "start": report.start,
            "end": report.end,
            "kpis": [asdict(k) for k in report.quality.kpis],
            "previous_kpis": [asdict(k) for k in report.previous.kpis],
            "average_rating": report.quality.average_rating,
            **_failure_figures(report.failures),
            "compliance": titled,
        }
    with _reader(request, me):
        html = render_html(report)
    if format == "pdf":
        return Response(
            render_pdf(html),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
        )
    return HTMLResponse(html)

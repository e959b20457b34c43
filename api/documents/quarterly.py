"""The quarterly report as a page to print and as PDF (WeasyPrint renders the same HTML)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.documents.charts import bar_chart, line_chart
from maintenance.reports.failures import FailureReport
from maintenance.reports.quality import Kpi
from maintenance.reports.quarterly import QuarterlyReport

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
KPI_NAMES = {
    "response_on_time": "Response on time",
    "resolution_on_time": "Resolution on time",
    "complaint_handling_on_time": "Complaints handled on time",
    "complaint_rate": "Complaint rate",
    "satisfied": "Satisfied (4-5 of 5)",
    "pm_compliance": "Preventive maintenance on time",
}


def kpi_chart(kpis: list[Kpi]) -> str:
    return bar_chart(
        [(KPI_NAMES.get(k.name, k.name), k.value, k.target) for k in kpis],
        title="KPIs against targets (red tick)",
    )


def trend_chart(report: FailureReport, months: list[str]) -> str:
    groups = sorted({r.group for r in report.trend})
    per = {(r.month, r.group): r.failures_per_asset for r in report.trend}
    return line_chart(
        months,
        {g: [per.get((m, g), 0.0) for m in months] for g in groups},
        title="Failures per asset per month",
    )


def render_html(report: QuarterlyReport) -> str:
    previous = {k.name: k for k in report.previous.kpis}
    return _env.get_template("quarterly.html").render(
        r=report,
        names=KPI_NAMES,
        previous=previous,
        kpi_chart=kpi_chart(report.quality.kpis),
        trend_chart=trend_chart(report.failures, report.months),
    )


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported late: loading Pango costs ~0.5 s at start-up

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf

"""The quarterly report as a page to print and as PDF (WeasyPrint renders the same HTML)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.documents.charts import bar_chart, line_chart
from api.documents.words import kpi_name
from maintenance.language import catalogue, formats
from maintenance.language.words import label
from maintenance.plans.defaults import shipped_title
from maintenance.reports.failures import FailureReport
from maintenance.reports.quality import Kpi
from maintenance.reports.quarterly import QuarterlyReport

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
)
_env.install_gettext_callables(  # type: ignore[attr-defined]
    catalogue.gettext_, catalogue.ngettext_, newstyle=True
)
_env.filters["label"] = label
_env.filters["when"] = formats.when
_env.filters["percent"] = formats.percent
_env.filters["number"] = formats.number
_env.globals["kpi_name"] = kpi_name
_env.globals["programme_title"] = shipped_title


def kpi_chart(kpis: list[Kpi]) -> str:
    return bar_chart(
        [(kpi_name(k.name), k.value, k.target) for k in kpis],
        title=catalogue.gettext_("KPIs against targets (red tick)"),
    )


def trend_chart(report: FailureReport, months: list[str]) -> str:
    groups = sorted({r.group for r in report.trend})
    per = {(r.month, r.group): r.failures_per_asset for r in report.trend}
    return line_chart(
        months,
        {g: [per.get((m, g), 0.0) for m in months] for g in groups},
        title=catalogue.gettext_("Failures per asset per month"),
    )


def render_html(report: QuarterlyReport) -> str:
    """In the current language (catalogue.using) and zone (formats.in_zone)."""
    previous = {k.name: k for k in report.previous.kpis}
    return _env.get_template("quarterly.html").render(
        r=report,
        lang=catalogue.current(),
        title=report_title(report),
        previous=previous,
        kpi_chart=kpi_chart(report.quality.kpis),
        trend_chart=trend_chart(report.failures, report.months),
    )


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported late: loading Pango costs ~0.5 s at start-up

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def report_title(report: QuarterlyReport) -> str:
    title = catalogue.gettext_("Service quality {year} Q{quarter}").format(
        year=report.year, quarter=report.quarter
    )
    return f"{title} - {report.site}" if report.site else title

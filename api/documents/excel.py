"""Excel workbooks of the reports: one sheet per table, numbers as numbers, shares as
percentages, frozen header rows."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from api.documents.words import kpi_name
from maintenance.cells import inert_row
from maintenance.language.catalogue import N_
from maintenance.language.catalogue import gettext_ as _
from maintenance.language.words import label
from maintenance.plans.defaults import shipped_title
from maintenance.reports.compliance import ProgrammeCompliance
from maintenance.reports.failures import FailureReport
from maintenance.reports.quality import QualityReport

PERCENT = "0.0%"


def _sheet(
    book: Workbook,
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    percent_columns: Sequence[int] = (),
) -> None:
    sheet = book.create_sheet(title)
    # Every cell through `inert`: a text that begins like a formula is stored as text.
    sheet.append(inert_row(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(inert_row(row))
    for column in percent_columns:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            cell.number_format = PERCENT
    sheet.freeze_panes = "A2"
    for column_cells in sheet.columns:
        width = max(len(str(c.value)) if c.value is not None else 0 for c in column_cells)
        sheet.column_dimensions[column_cells[0].column_letter].width = min(60, width + 2)


def workbook(
    *,
    quality: QualityReport | None = None,
    failures: FailureReport | None = None,
    compliance: list[ProgrammeCompliance] | None = None,
) -> bytes:
    """Sheet names, headers and words in the current language (catalogue.using); numbers stay
    numbers."""
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    if quality is not None:
        _sheet(
            book,
            _("Service quality"),
            [_("Measure"), _("Value"), _("Target"), _("Status"), _("Met"), _("Counted")],
            [
                [kpi_name(k.name), k.value, k.target, label(k.status), k.numerator, k.denominator]
                for k in quality.kpis
            ],
            percent_columns=(2, 3),
        )
    if failures is not None:
        _failure_sheets(book, failures)
    if compliance is not None:
        _compliance_sheet(book, compliance)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _failure_sheets(book: Workbook, failures: FailureReport) -> None:
    group = label(failures.group_by)
    _sheet(
        book,
        _("Failure trend"),
        [_("Month"), group, _("Failures"), _("Assets"), _("Failures per asset")],
        [
            [r.month, label(r.group), r.failures, r.assets, r.failures_per_asset]
            for r in failures.trend
        ],
    )
    _sheet(
        book,
        _("By {group}").format(group=group),
        [group, _("Failures"), _("Assets"), _("MTBF (h)"), _("MTTR (h)"), _("Repeat failures")],
        [
            [label(g.group), g.failures, g.assets, g.mtbf_hours, g.mttr_hours, g.repeat_failures]
            for g in failures.groups
        ],
    )
    _sheet(book, _("Top causes"), [_("Fault"), _("Failures")], failures.top_causes)


COMPLIANCE_HEADER = (
    N_("Site"),
    N_("Programme"),
    N_("Standard"),
    N_("Due"),
    N_("Done in window"),
    N_("Done early"),
    N_("Done late"),
    N_("Missed"),
    N_("Open"),
    N_("In window"),
)


def compliance_header() -> list[str]:
    return [_(word) for word in COMPLIANCE_HEADER]


def _compliance_sheet(book: Workbook, rows: list[ProgrammeCompliance]) -> None:
    _sheet(
        book,
        _("Compliance"),
        compliance_header(),
        [
            [
                c.site,
                shipped_title(c.programme),
                c.standard,
                c.due,
                c.in_window,
                c.early,
                c.late,
                c.missed,
                c.open,
                c.share_in_window,
            ]
            for c in rows
        ],
        percent_columns=(10,),
    )

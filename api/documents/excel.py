"""Excel workbooks of the reports: one sheet per table, numbers as numbers, shares as
percentages, frozen header rows."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from maintenance.cells import inert_row
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
    *, quality: QualityReport | None = None, failures: FailureReport | None = None
) -> bytes:
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    if quality is not None:
        _sheet(
            book,
            "Service quality",
            ["kpi", "value", "target", "status", "numerator", "denominator"],
            [
                [k.name, k.value, k.target, k.status, k.numerator, k.denominator]
                for k in quality.kpis
            ],
            percent_columns=(2, 3),
        )
    if failures is not None:
        _sheet(
            book,
            "Failure trend",
            ["month", failures.group_by, "failures", "assets", "failures_per_asset"],
            [
                [r.month, r.group, r.failures, r.assets, r.failures_per_asset]
                for r in failures.trend
            ],
        )
        _sheet(
            book,
            f"By {failures.group_by}",
            [
                failures.group_by,
                "failures",
                "assets",
                "mtbf_hours",
                "mttr_hours",
                "repeat_failures",
            ],
            [
                [g.group, g.failures, g.assets, g.mtbf_hours, g.mttr_hours, g.repeat_failures]
                for g in failures.groups
            ],
        )
        _sheet(book, "Top causes", ["fault", "failures"], failures.top_causes)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

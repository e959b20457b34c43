"""Spreadsheet cells made inert (OWASP CSV injection): every formula lead, and what stays."""

from __future__ import annotations

import pytest

from maintenance.cells import inert, inert_row, unquoted


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://x")',
        "@SUM(1)",
        "+1+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
        "=",
    ],
)
def test_a_formula_lead_is_quoted_and_read_back_as_it_was(text: str) -> None:
    assert inert(text) == "'" + text
    assert unquoted(inert(text)) == text


@pytest.mark.parametrize("value", ["LIFT-A1", "lift = stuck", "-3.5", "+42", "1e-3", "", 7, 0.5])
def test_plain_texts_and_numbers_stay(value: object) -> None:
    assert inert(value) == value


def test_rows_and_an_ordinary_apostrophe() -> None:
    assert inert_row(["=1", None, 3]) == ["'=1", None, 3]
    assert unquoted("'tis") == "'tis"

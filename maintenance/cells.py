"""Values bound for a spreadsheet cell (CSV exports, Excel workbooks), made inert.

A spreadsheet program reads a cell that begins with `=`, `+`, `-` or `@` (or a tab or carriage
return before one) as a formula: a ledger name like `=HYPERLINK("http://x")` would run in the
reader's spreadsheet. Following OWASP's CSV-injection guidance, such a text gets a leading
apostrophe, which spreadsheets show as text and do not evaluate. Numbers stay numbers; a text
that is a plain number (`-3.5`) is no formula and stays as it is."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def inert(value: Any) -> Any:
    """The value as a spreadsheet should hold it: formula-leading texts quoted."""
    if not isinstance(value, str) or not value.startswith(FORMULA_LEADS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return QUOTE + value


def inert_row(values: Iterable[Any]) -> list[Any]:
    return [inert(v) for v in values]


def unquoted(text: str) -> str:
    """A cell read back from one of our exports: the apostrophe `inert` added taken off, so
    that export then import gives the same values."""
    if text.startswith(QUOTE) and text[1:].startswith(FORMULA_LEADS):
        return text[1:]
    return text

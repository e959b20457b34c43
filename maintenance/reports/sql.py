"""Date and text arithmetic that the reports push into the database, spelled for each backend
we run on (PostgreSQL in production, SQLite for `make run`): a year of a million tickets is
aggregated where it lies instead of travelling to Python row by row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, cast, func
from sqlalchemy.sql.elements import ColumnElement


def month_of(column: Any, dialect: str) -> ColumnElement[Any]:
    """The month of a UTC timestamp (PostgreSQL sessions run in UTC, SQLite stores UTC): the
    first instant of the month on PostgreSQL (cheaper than formatting every row), "YYYY-MM"
    on SQLite."""
    if dialect == "postgresql":
        return func.date_trunc("month", column)
    return func.strftime("%Y-%m", column)


def hours_between(start: Any, end: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return cast(func.extract("epoch", end - start), Float) / 3600.0
    # julianday is a float of days: rounded to the millisecond, an hour is exactly an hour.
    return func.round((func.julianday(end) - func.julianday(start)) * 86_400_000) / 3_600_000.0

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from maintenance.plans.cadence import Cadence, CadenceError, due_at


def dates(cadence: Cadence, anchor: date, until: date) -> list[str]:
    return [d.isoformat() for d in cadence.dates(anchor, until)]


def test_month_ends_clamp_and_return_to_the_31st() -> None:
    monthly = Cadence(1, "months")
    assert dates(monthly, date(2027, 1, 31), date(2027, 5, 31)) == [
        "2027-01-31",
        "2027-02-28",
        "2027-03-31",
        "2027-04-30",
        "2027-05-31",
    ]


def test_quarters_and_leap_years() -> None:
    assert dates(Cadence(1, "quarters"), date(2027, 11, 30), date(2028, 9, 1)) == [
        "2027-11-30",
        "2028-02-29",
        "2028-05-30",
        "2028-08-30",
    ]
    assert dates(Cadence(1, "years"), date(2028, 2, 29), date(2032, 3, 1)) == [
        "2028-02-29",
        "2029-02-28",
        "2030-02-28",
        "2031-02-28",
        "2032-02-29",
    ]


def test_days_weeks_and_rrules() -> None:
    assert dates(Cadence(10, "days"), date(2027, 1, 1), date(2027, 1, 25)) == [
        "2027-01-01",
        "2027-01-11",
        "2027-01-21",
    ]
    assert dates(Cadence(2, "weeks"), date(2027, 1, 1), date(2027, 1, 31)) == [
        "2027-01-01",
        "2027-01-15",
        "2027-01-29",
    ]
    first_monday = Cadence(rrule="FREQ=MONTHLY;BYDAY=1MO")
    assert dates(first_monday, date(2027, 1, 1), date(2027, 3, 31)) == [
        "2027-01-04",
        "2027-02-01",
        "2027-03-01",
    ]


def test_due_at_is_the_end_of_the_local_day_across_dst() -> None:
    # Berlin switches to summer time on 2026-03-29: that day is 23 hours long
    assert due_at(date(2026, 3, 28), "Europe/Berlin") == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert due_at(date(2026, 3, 29), "Europe/Berlin") == datetime(2026, 3, 29, 22, tzinfo=UTC)
    assert due_at(date(2026, 10, 25), "Europe/Berlin") == datetime(2026, 10, 25, 23, tzinfo=UTC)
    assert due_at(date(2027, 6, 30), "Asia/Shanghai") == datetime(2027, 6, 30, 16, tzinfo=UTC)


@pytest.mark.parametrize("bad", [{"every": 0}, {"rrule": "FREQ=SOMETIMES"}])
def test_invalid_cadences_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(CadenceError):
        Cadence(**bad)  # type: ignore[arg-type]

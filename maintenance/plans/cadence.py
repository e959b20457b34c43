"""When a plan falls due: calendar cadences and iCalendar RRULEs, in the site's time zone.

Occurrences are local dates computed from the plan's anchor each time (never by adding to the
previous occurrence), so a plan anchored on the 31st falls on each month's last day and returns
to the 31st, and Feb 29 anchors fall on Feb 28 in other years. An occurrence on local date D is
due at the end of D in the site's zone (DST-correct).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr

Unit = Literal["days", "weeks", "half_months", "months", "quarters", "years"]
UNITS: tuple[str, ...] = ("days", "weeks", "half_months", "months", "quarters", "years")


class CadenceError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Cadence:
    every: int = 1
    unit: Unit = "months"
    rrule: str | None = None  # e.g. "FREQ=MONTHLY;BYDAY=1MO" (overrides every/unit)

    def __post_init__(self) -> None:
        if self.rrule is None and self.every < 1:
            raise CadenceError("every: must be at least 1")
        if self.rrule is not None:
            try:
                rrulestr(self.rrule, dtstart=datetime(2026, 1, 1))
            except (ValueError, TypeError) as error:
                raise CadenceError(f"rrule: {error}") from None

    def dates(self, anchor: date, until: date) -> Iterator[date]:
        """Local occurrence dates from anchor (inclusive) to until (inclusive)."""
        if self.rrule is not None:
            rule = rrulestr(self.rrule, dtstart=datetime.combine(anchor, time()))
            for moment in rule.xafter(datetime.combine(anchor, time()), inc=True):
                if moment.date() > until:
                    return
                yield moment.date()
            return
        k = 0
        while (day := self.nth(anchor, k)) <= until:
            yield day
            k += 1

    def nth(self, anchor: date, k: int) -> date:
        """The k-th occurrence from the anchor (calendar cadences). A half-month is the anchor's
        day of each month and 15 days after it: 24 a year, every sixth one on the anchor's day
        of a quarter."""
        n = self.every * k
        if self.unit == "half_months":
            return anchor + relativedelta(months=n // 2) + timedelta(days=15 * (n % 2))
        return (
            anchor
            + {
                "days": relativedelta(days=n),
                "weeks": relativedelta(weeks=n),
                "months": relativedelta(months=n),
                "quarters": relativedelta(months=3 * n),
                "years": relativedelta(years=n),
            }[self.unit]
        )

    def after(self, day: date) -> date:
        """One step after a day (a floating plan's next due date after a completion)."""
        if self.rrule is not None:
            rule = rrulestr(self.rrule, dtstart=datetime.combine(day, time()))
            moment = rule.after(datetime.combine(day, time()))
            return moment.date() if moment is not None else date.max
        return self.nth(day, 1)

    @property
    def rank(self) -> int:
        """The step's length in days, roughly: which of a programme's tiers is the higher."""
        if self.rrule is not None:
            return 0
        days = {"days": 1, "weeks": 7, "half_months": 15, "months": 30, "quarters": 91}
        return self.every * days.get(self.unit, 365)


def due_at(day: date, zone: str) -> datetime:
    """The end of a local day, in UTC."""
    return datetime.combine(day + timedelta(days=1), time(), ZoneInfo(zone)).astimezone(UTC)


def starts_at(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(zone)).astimezone(UTC)


def local_date(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()

"""Business-hours calendars: SLA clocks that only run while a site is staffed.

A calendar is {"mon": [["08:00", "18:00"]], "tue": [...], ...} in the site's time zone; days
left out are closed. No calendar means 24/7 clocks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class CalendarError(ValueError):
    pass


class BusinessCalendar:
    def __init__(self, hours: Mapping[str, Any] | None = None, timezone: str = "UTC") -> None:
        self.zone = ZoneInfo(timezone)
        self.hours: dict[int, list[tuple[time, time]]] | None = None
        if hours is None:
            return
        self.hours = {}
        for day, spans in hours.items():
            if day not in DAYS:
                raise CalendarError(f"business_hours.{day}: not one of {', '.join(DAYS)}")
            parsed = []
            for n, span in enumerate(spans):
                try:
                    start, end = (time.fromisoformat(v) for v in span)
                except (TypeError, ValueError):
                    raise CalendarError(
                        f'business_hours.{day}[{n}]: need ["HH:MM", "HH:MM"]'
                    ) from None
                if end <= start:
                    raise CalendarError(f"business_hours.{day}[{n}]: end must follow start")
                parsed.append((start, end))
            self.hours[DAYS.index(day)] = sorted(parsed)
        if not any(self.hours.values()):
            raise CalendarError("business_hours: at least one open span is needed")

    def add_minutes(self, start: datetime, minutes: int) -> datetime:
        if self.hours is None:
            return start + timedelta(minutes=minutes)
        remaining = timedelta(minutes=minutes)
        for open_at, close_at in self._open_spans(start):
            begin = max(open_at, start)
            if begin >= close_at:
                continue
            available = close_at - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise AssertionError("open spans never run out")

    def _open_spans(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        assert self.hours is not None
        day: date = start.astimezone(self.zone).date() - timedelta(days=1)
        while True:
            for begin, end in self.hours.get(day.weekday(), []):
                # Local wall times made aware in the zone: DST days get their true length.
                yield (
                    datetime.combine(day, begin, self.zone).astimezone(UTC),
                    datetime.combine(day, end, self.zone).astimezone(UTC),
                )
            day += timedelta(days=1)

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from maintenance.assets.calendar import BusinessCalendar, CalendarError
from maintenance.sla.policy import DEFAULTS, due_times
from maintenance.vocabulary import Priority, TicketType

WEEKDAYS = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def test_24_7_clocks_by_default() -> None:
    start = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)  # a Friday
    assert BusinessCalendar().add_minutes(start, 90) == start + timedelta(minutes=90)


def test_business_hours_skip_nights_and_weekends_in_the_site_zone() -> None:
    calendar = BusinessCalendar(WEEKDAYS, "Asia/Shanghai")
    friday_5pm_local = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai
    # 60 min left on Friday, the other 30 on Monday from 08:00 local (00:00 UTC)
    assert calendar.add_minutes(friday_5pm_local, 90) == datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
    saturday = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
    assert calendar.add_minutes(saturday, 30) == datetime(2026, 11, 23, 0, 30, tzinfo=UTC)


def test_business_hours_follow_daylight_saving_changes() -> None:
    calendar = BusinessCalendar(
        {"sun": [["08:00", "18:00"]], "mon": [["08:00", "18:00"]]}, "Europe/Berlin"
    )
    # 2026-03-29 is the spring change: 08:00 Berlin is 06:00 UTC that day (07:00 the day before)
    saturday = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    assert calendar.add_minutes(saturday, 60) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "bad",
    [{"someday": []}, {"mon": [["18:00", "08:00"]]}, {"mon": [["8 am", "6 pm"]]}, {"mon": []}],
)
def test_invalid_calendars_say_where(bad: dict[str, list[list[str]]]) -> None:
    with pytest.raises(CalendarError, match="business_hours"):
        BusinessCalendar(bad)


def test_emergencies_run_on_24_7_clocks_whatever_the_calendar() -> None:
    calendar = BusinessCalendar(WEEKDAYS, "UTC")
    saturday = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
    emergency = DEFAULTS[(None, Priority.emergency)]
    due = due_times(emergency, saturday, calendar, Priority.emergency)
    assert due.response_due == saturday + timedelta(minutes=15)
    repair = DEFAULTS[(TicketType.repair, None)]
    due = due_times(repair, saturday, calendar, Priority.normal)
    # 24 business hours of 10 h days: Monday, Tuesday, and 4 h of Wednesday
    assert due.response_due == datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert due.resolution_due == datetime(2026, 11, 27, 16, 0, tzinfo=UTC)

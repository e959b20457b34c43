"""When runs start and close: hourly steps in absolute time, daily rounds at the same wall-clock
time across a DST change, the slot taking check-ins, and the next start."""

from __future__ import annotations

from datetime import UTC, date, datetime

from maintenance.patrols import schedule
from maintenance.patrols.models import PatrolRound


def a_round(**fields: object) -> PatrolRound:
    values: dict[str, object] = {
        "every": 1,
        "unit": "hours",
        "starts_on": date(2027, 3, 13),
        "start_time": "22:00",
        "window_minutes": 45,
        "grace_minutes": 15,
        **fields,
    }
    return PatrolRound(**values)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_hourly_runs_step_in_absolute_time_across_a_dst_change() -> None:
    r = a_round()  # New York springs forward at 02:00 on 2027-03-14
    starts = [
        s.starts_at
        for s in schedule.slots(r, "America/New_York", utc(2027, 3, 14, 3), utc(2027, 3, 14, 8))
    ]
    assert starts == [utc(2027, 3, 14, h) for h in range(3, 9)]  # 22:00 EST and every hour on
    first = schedule.slot(r, "America/New_York", 0)
    assert (first.starts_at, first.on_time_by, first.closes_at) == (
        utc(2027, 3, 14, 3),
        utc(2027, 3, 14, 3, 45),
        utc(2027, 3, 14, 4),
    )


def test_a_daily_round_keeps_its_wall_clock_time_across_a_dst_change() -> None:
    r = a_round(unit="days", start_time="09:00", window_minutes=120, grace_minutes=60)
    starts = [
        s.starts_at
        for s in schedule.slots(r, "America/New_York", utc(2027, 3, 12), utc(2027, 3, 16))
    ]
    # 09:00 EST is 14:00 UTC, 09:00 EDT from the 14th is 13:00 UTC
    assert starts == [utc(2027, 3, 13, 14), utc(2027, 3, 14, 13), utc(2027, 3, 15, 13)]


def test_the_slot_taking_check_ins_and_the_next_start() -> None:
    r = a_round(unit="days", every=2, start_time="09:00", window_minutes=60, grace_minutes=30)
    zone = "Asia/Shanghai"  # 09:00 there is 01:00 UTC
    assert schedule.current(r, zone, utc(2027, 3, 13, 0, 59)) is None
    on = schedule.current(r, zone, utc(2027, 3, 13, 2, 29))
    assert on is not None and on.starts_at == utc(2027, 3, 13, 1)
    assert schedule.current(r, zone, utc(2027, 3, 13, 2, 30)) is None  # closed at 10:30
    assert schedule.following(r, zone, utc(2027, 3, 13, 2, 30)) == utc(2027, 3, 15, 1)
    assert schedule.following(r, zone, utc(2027, 3, 1)) == utc(2027, 3, 13, 1)  # not yet begun

"""Notifications per site in a flood: a burst goes out, the rest are grouped, none is lost."""

from __future__ import annotations

from maintenance.notifications.grouping import FloodGrouping
from maintenance.notifications.notifier import Notification


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def alarm(site: str, n: int) -> Notification:
    return Notification("critical_alarm", f"{site} engineering", None, f"alarm {n}", n, site=site)


def test_a_burst_then_one_grouped_notification_per_window_while_it_floods() -> None:
    clock = Clock()
    grouping = FloodGrouping(burst=3, window_s=60, clock=clock)
    sent = [out for n in range(1000) for out in grouping.admit(alarm("demo", n))]
    assert [n.message for n in sent] == ["alarm 0", "alarm 1", "alarm 2"]
    assert grouping.admit(alarm("other", 0)) == [alarm("other", 0)]  # another site: its own
    assert grouping.due() == []
    clock.now = 60
    (grouped,) = grouping.due()
    assert (grouped.kind, grouped.recipient, grouped.site, grouped.alarm_id) == (
        "critical_alarm",
        "demo engineering",
        "demo",
        None,
    )
    assert grouped.message == (
        "997 more critical_alarm notifications for demo within 60 s, grouped (a flood): "
        + "; ".join(f"alarm {n}" for n in range(3, 13))
        + "; and 987 more"
    )
    # still flooding: no new burst, the next window's alarms are grouped too
    assert grouping.admit(alarm("demo", 1000)) == []
    clock.now = 120
    assert [g.message for g in grouping.due()] == [
        "1 more critical_alarm notifications for demo within 60 s, grouped (a flood): alarm 1000"
    ]
    clock.now = 180
    assert grouping.due() == []  # a quiet window ends the flood
    assert grouping.admit(alarm("demo", 1001)) == [alarm("demo", 1001)]


def test_a_stop_sends_what_is_held() -> None:
    grouping = FloodGrouping(burst=1, window_s=60, clock=Clock())
    assert len(grouping.admit(alarm("demo", 1))) == 1
    assert grouping.admit(alarm("demo", 2)) == []
    assert [g.message for g in grouping.flush()] == [
        "1 more critical_alarm notifications for demo within 60 s, grouped (a flood): alarm 2"
    ]
    assert grouping.flush() == []

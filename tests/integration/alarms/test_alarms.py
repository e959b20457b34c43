"""Alarm records, lifecycle, suppression, chattering, flood and alarm tickets, on SQLite and on a
real PostgreSQL (the repository contract)."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import pytest
from sqlalchemy import select

from api.metrics import AnomalyBudgetMetrics
from ingest.readings import DeviceEvent, DeviceKey
from maintenance.alarms.lifecycle import AlarmActionNotAllowed
from maintenance.alarms.models import Alarm, AlarmFlood, AlarmTransitionRecord, MaintenanceWindow
from maintenance.alarms.monitor import AlarmMonitor
from maintenance.alarms.queries import over_budget
from maintenance.alarms.tickets import ticket_alarms
from maintenance.alarms.transitions import AlarmTransition
from maintenance.errors import InvalidInput
from maintenance.flows import intake, transitions
from maintenance.notifications.notifier import CollectingNotifier
from maintenance.storage.db import Database
from maintenance.vocabulary import Priority, TicketState, TicketType
from maintenance.work_orders.models import Ticket, TicketEvent
from maintenance.work_orders.schemas import TicketCreate, TransitionRequest
from rules.engine import ConditionChange, RuleEngine
from rules.rulefile import RuleFiles
from tests.ledger import NOW, Ledger, seed

LIFT = DeviceKey("estate-1", "elevator", "elevator-001")
PUMP = DeviceKey("estate-1", "water", "water-001")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def ms(self, seconds: float = 0) -> int:
        return int((self.now + timedelta(seconds=seconds)).timestamp() * 1000)


@pytest.fixture
def ledger(database: Database) -> Ledger:
    return seed(database)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def heard() -> list[AlarmTransition]:
    return []


@pytest.fixture
def monitor(
    database: Database, ledger: Ledger, clock: Clock, heard: list[AlarmTransition]
) -> AlarmMonitor:
    return AlarmMonitor(
        database,
        RuleEngine([]),
        notifier=CollectingNotifier(),
        clock=clock,
        listeners=[heard.extend],
    )


def change(
    kind: str,
    at_ms: int,
    rule: str = "lift-trapped",
    device: DeviceKey = LIFT,
    sev: str = "critical",
) -> ConditionChange:
    return ConditionChange(rule, device, kind, at_ms, sev, "Passenger trapped", {"code": "trapped"})  # type: ignore[arg-type]


def alarm_row(db: Database, rule: str = "lift-trapped", device: str = "elevator-001") -> Alarm:
    with db.read() as s:
        alarm = s.scalar(select(Alarm).where(Alarm.rule_id == rule, Alarm.device_id == device))
        assert alarm is not None
        return alarm


def events(db: Database, alarm_id: int) -> list[tuple[str, str, str, str]]:
    with db.read() as s:
        rows = s.scalars(
            select(AlarmTransitionRecord)
            .where(AlarmTransitionRecord.alarm_id == alarm_id)
            .order_by(AlarmTransitionRecord.id)
        )
        return [(e.action, e.from_state, e.to_state, e.actor) for e in rows]


def tickets(db: Database) -> list[Ticket]:
    with db.read() as s:
        return list(s.scalars(select(Ticket).order_by(Ticket.id)))


def test_isa_lifecycle_is_recorded_with_who_when_and_values(
    database: Database, monitor: AlarmMonitor, clock: Clock
) -> None:
    monitor.apply([change("raise", clock.ms())])
    assert monitor.apply([change("raise", clock.ms(5))]) == []  # deduplicated
    alarm = alarm_row(database)
    assert (alarm.state, alarm.occurrences, alarm.values) == (
        "active_unacknowledged",
        1,
        {"code": "trapped"},
    )
    monitor.apply([change("clear", clock.ms(60))])
    assert alarm_row(database).state == "cleared_unacknowledged"
    monitor.acknowledge(alarm.id, by="eng-liu")
    with pytest.raises(AlarmActionNotAllowed):
        monitor.acknowledge(alarm.id, by="eng-liu")
    assert alarm_row(database).acknowledged_by == "eng-liu"
    assert events(database, alarm.id) == [
        ("raise", "normal", "active_unacknowledged", "rules"),
        ("clear", "active_unacknowledged", "cleared_unacknowledged", "rules"),
        ("acknowledge", "cleared_unacknowledged", "normal", "eng-liu"),
    ]
    with database.read() as s:
        first = s.scalars(
            select(AlarmTransitionRecord).where(AlarmTransitionRecord.alarm_id == alarm.id)
        ).first()
        assert first is not None and first.values == {"code": "trapped"}
        assert first.at == NOW


def test_a_critical_alarm_opens_one_emergency_ticket_and_a_repeat_attaches_to_it(
    database: Database,
    ledger: Ledger,
    monitor: AlarmMonitor,
    clock: Clock,
    heard: list[AlarmTransition],
) -> None:
    monitor.apply([change("raise", clock.ms(-120))])
    (ticket,) = tickets(database)
    assert (ticket.type, ticket.priority, ticket.channel) == (
        TicketType.alarm,
        Priority.emergency,
        "alarm",
    )
    assert ticket.asset_id == ledger.lift and ticket.state is TicketState.assigned
    assert ticket.created_at == NOW - timedelta(seconds=120)  # SLA from the raise
    assert ticket.response_due == NOW - timedelta(seconds=120) + timedelta(minutes=15)
    assert [t.action for t in heard] == ["raise", "ticket"]
    assert heard[-1].ticket_id == ticket.id
    # cleared: the ticket stays open and shows its alarm back to normal
    monitor.apply([change("clear", clock.ms(-60))])
    with database.read() as s:
        (linked,) = ticket_alarms(s, ticket.id)
        assert linked.state == "cleared_unacknowledged"
    # raised again: the same ticket, with the repeat in its audit trail
    monitor.apply([change("raise", clock.ms())])
    assert len(tickets(database)) == 1
    with database.read() as s:
        actions = s.scalars(
            select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)
        ).all()
        assert actions == ["create", "assign", "alarm_attached"]
    # once the ticket is closed, a new occurrence opens a new ticket
    with database.transaction() as s:
        transitions.transition(
            s,
            ticket.id,
            TransitionRequest(action="cancel", actor="sup", note="duplicate of a call"),
            now=NOW,
            notifier=CollectingNotifier(),
        )
    monitor.apply([change("clear", clock.ms(1)), change("raise", clock.ms(2))])
    assert len(tickets(database)) == 2


def test_minor_alarms_open_no_ticket_and_anomalies_open_predictive_inspections(
    database: Database, monitor: AlarmMonitor, clock: Clock
) -> None:
    monitor.apply([change("raise", clock.ms(), rule="door-slow", sev="minor")])
    assert tickets(database) == []
    monitor.apply([change("raise", clock.ms(), rule="anomaly:water", device=PUMP, sev="warning")])
    (ticket,) = tickets(database)
    assert (ticket.type, ticket.priority) == (TicketType.inspection, Priority.normal)
    assert ticket.title.startswith("Predictive inspection")


def test_an_anomaly_ticket_names_the_metrics_behind_the_finding(
    database: Database, monitor: AlarmMonitor, clock: Clock
) -> None:
    values: dict[str, float | bool | str] = {
        "score": 4.713,
        "model": "water/water-001 v3",
        "drivers": "outlet_pressure, flow",
        "outlet_pressure": 3.642,
        "outlet_pressure normal": "3.51 .. 4.215",
        "outlet_pressure share": 0.417,
        "flow": 11.35,
        "flow normal": "10.41 .. 39.41",
        "flow share": 0.279,
    }
    finding = ConditionChange(
        "anomaly:water", PUMP, "raise", clock.ms(), "warning", "Behaves unlike ...", values
    )
    monitor.apply([finding])
    assert alarm_row(database, "anomaly:water", PUMP.device_id).values == values
    (ticket,) = tickets(database)
    assert ticket.description.splitlines()[0] == (
        "Model water/water-001 v3, anomaly score 4.713. Metrics behind it: "
        "outlet_pressure = 3.642 (normal 3.51 .. 4.215, 42% of the score); "
        "flow = 11.35 (normal 10.41 .. 39.41, 28% of the score)"
    )


def test_anomaly_findings_share_one_inspection_and_the_weekly_budget_holds_more_back(
    database: Database, monitor: AlarmMonitor, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    def finding(kind: Literal["raise", "clear"], seconds: float) -> ConditionChange:
        values: dict[str, float | bool | str] = {"model": "water/water-001 v2", "score": 3.0}
        return ConditionChange(
            "anomaly:water", PUMP, kind, clock.ms(seconds), "warning", "", values
        )

    for day in range(3):  # three findings in three days: one inspection, the rest attach
        monitor.apply([finding("raise", day * 86_400)])
        monitor.apply([finding("clear", day * 86_400 + 60)])
    (ticket,) = tickets(database)
    assert alarm_row(database, "anomaly:water", PUMP.device_id).ticket_id == ticket.id
    assert over_budget_now(database) == {}
    with caplog.at_level("WARNING", logger="maintenance.alarms.conditions"):
        monitor.apply([finding("raise", 3 * 86_400)])  # the fourth in 7 days: over the budget
    alarm = alarm_row(database, "anomaly:water", PUMP.device_id)
    assert alarm.suppressed_by == (
        "anomaly findings budget: 3 findings on the asset in the 7 days before (at most 3)"
    )
    assert alarm.occurrences == 4 and len(tickets(database)) == 1  # recorded, no new ticket
    assert over_budget_now(database) == {"water/water-001": 1}
    assert [
        r.getMessage() for r in caplog.records if r.name == "maintenance.alarms.conditions"
    ] == [
        "anomaly model water/water-001 v2 is over the findings budget on asset "
        f"{alarm.asset_id}: {alarm.suppressed_by}"
    ]
    (family,) = AnomalyBudgetMetrics(database).collect()
    assert [(s.labels, s.value) for s in family.samples] == [({"model": "water/water-001"}, 1)]
    # A week after the first three, a finding is announced again.
    monitor.apply([finding("clear", 3 * 86_400 + 60)])
    monitor.apply([finding("raise", 10 * 86_400 + 1)])
    assert alarm_row(database, "anomaly:water", PUMP.device_id).suppressed_by is None


def over_budget_now(database: Database) -> dict[str, int]:
    with database.read() as s:
        return over_budget(s)


def test_an_engineer_opens_a_ticket_for_a_minor_alarm_once(
    database: Database, monitor: AlarmMonitor, clock: Clock, heard: list[AlarmTransition]
) -> None:
    monitor.apply([change("raise", clock.ms(), rule="door-slow", sev="minor")])
    alarm = alarm_row(database, "door-slow")
    assert tickets(database) == []
    first = monitor.open_ticket(alarm.id, by="eng:liu")
    again = monitor.open_ticket(alarm.id, by="eng:liu")
    (ticket,) = tickets(database)
    assert first == again == ticket.id
    assert (ticket.type, ticket.priority, ticket.asset_id) == (
        TicketType.alarm,
        Priority.normal,
        alarm.asset_id,
    )
    assert alarm_row(database, "door-slow").ticket_id == ticket.id
    assert [(t.action, t.actor, t.ticket_id) for t in heard if t.action == "ticket"] == [
        ("ticket", "eng:liu", ticket.id)
    ]


def test_only_work_in_progress_on_site_suppresses_and_never_a_life_safety_alarm(
    database: Database, ledger: Ledger, monitor: AlarmMonitor, clock: Clock
) -> None:
    def move(ticket_id: int, action: str, **fields: object) -> None:
        with database.transaction() as s:
            transitions.transition(
                s,
                ticket_id,
                TransitionRequest(action=action, actor="wang", **fields),
                now=NOW,
                notifier=CollectingNotifier(),
            )

    with database.transaction() as s:
        repair = intake.create(
            s,
            TicketCreate(
                site_id=ledger.site,
                type="repair",
                channel="hotline",
                title="lift noisy",
                asset_id=ledger.lift,
            ),
            actor="desk",
            now=NOW,
            notifier=CollectingNotifier(),
        )
        repair_id, assignee = repair.id, repair.assignee_id
    assert assignee is not None
    # Assigned, even accepted: nobody is working on the lift yet, so the alarm is announced.
    move(repair_id, "accept", committed_at=NOW + timedelta(hours=1))
    monitor.apply([change("raise", clock.ms(), rule="lift-door", sev="major")])
    door = alarm_row(database, "lift-door")
    assert (door.state, door.suppressed_by) == ("active_unacknowledged", None)
    assert [t.type for t in tickets(database)] == [TicketType.repair, TicketType.alarm]
    # The technician starts work on site: the lift's other alarms are held back ...
    move(repair_id, "start")
    monitor.apply([change("raise", clock.ms(10), rule="lift-vibration", sev="major")])
    assert alarm_row(database, "lift-vibration").suppressed_by == (
        f"work in progress on the asset: ticket {repair_id}"
    )
    # ... but never a life-safety one.
    trapped = change("raise", clock.ms(20))
    monitor.apply([replace(trapped, life_safety=True)])
    alarm = alarm_row(database)
    assert (alarm.suppressed_by, alarm.life_safety) == (None, True)
    assert len(tickets(database)) == 3
    # The work ends: the clock lifts the suppression and the held alarm opens its ticket.
    move(repair_id, "resolve")
    clock.now += timedelta(seconds=1)
    monitor.tick()
    assert alarm_row(database, "lift-vibration").suppressed_by is None
    assert [t.type for t in tickets(database)] == [TicketType.repair] + [TicketType.alarm] * 3


def test_an_engineer_resets_a_latched_event_with_a_reason_and_it_can_raise_again(
    database: Database, monitor: AlarmMonitor, clock: Clock
) -> None:
    latched = replace(change("raise", clock.ms()), resettable=True)
    monitor.apply([latched])
    alarm = alarm_row(database)
    with pytest.raises(InvalidInput) as no_reason:
        monitor.reset(alarm.id, by="eng:liu", reason=" ")
    assert no_reason.value.field == "reason"
    done = monitor.reset(alarm.id, by="eng:liu", reason="breaker closed on site")
    assert (done.action, done.from_state, done.to_state) == (
        "reset",
        "active_unacknowledged",
        "normal",
    )
    with database.read() as s:
        trail = s.scalars(
            select(AlarmTransitionRecord).where(AlarmTransitionRecord.alarm_id == alarm.id)
        ).all()
        assert [(e.action, e.actor, e.note) for e in trail][-1] == (
            "reset",
            "eng:liu",
            "breaker closed on site",
        )
    with pytest.raises(AlarmActionNotAllowed):
        monitor.reset(alarm.id, by="eng:liu", reason="again")
    monitor.apply([replace(latched, at_ms=clock.ms(60))])  # the device trips it again
    again = alarm_row(database)
    assert (again.state, again.occurrences) == ("active_unacknowledged", 2)
    monitor.apply([change("raise", clock.ms(), rule="vibration", sev="minor")])
    measured = alarm_row(database, "vibration")
    with pytest.raises(InvalidInput) as clears_by_itself:
        monitor.reset(measured.id, by="eng:liu", reason="x")
    assert clears_by_itself.value.field == "alarm_id"


def test_a_maintenance_window_suppresses(
    database: Database, ledger: Ledger, monitor: AlarmMonitor, clock: Clock
) -> None:
    with database.transaction() as s:
        s.add(
            MaintenanceWindow(
                asset_id=ledger.pump,
                starts_at=NOW,
                ends_at=NOW + timedelta(hours=2),
                reason="pump overhaul",
            )
        )
    monitor.apply([change("raise", clock.ms(60), rule="pump-pressure", device=PUMP)])
    assert (
        alarm_row(database, "pump-pressure", "water-001").suppressed_by
        == "asset under maintenance: window 1"
    )
    assert tickets(database) == []


def test_shelving_needs_a_reason_and_a_limit_and_expires(
    database: Database, monitor: AlarmMonitor, clock: Clock
) -> None:
    monitor.apply([change("raise", clock.ms(), sev="minor")])
    alarm = alarm_row(database)
    with pytest.raises(InvalidInput) as error:
        monitor.shelve(alarm.id, by="eng", reason="sensor known bad", minutes=9 * 60)
    assert error.value.field == "minutes"
    with pytest.raises(InvalidInput):
        monitor.shelve(alarm.id, by="eng", reason=" ", minutes=10)
    monitor.shelve(alarm.id, by="eng", reason="sensor known bad", minutes=10)
    assert alarm_row(database).shelved_until == NOW + timedelta(minutes=10)
    clock.now += timedelta(minutes=9)
    monitor.tick()
    assert alarm_row(database).shelved_until is not None
    clock.now += timedelta(minutes=1)
    monitor.tick()
    assert alarm_row(database).shelved_until is None
    assert [e[0] for e in events(database, alarm.id)] == ["raise", "shelve", "unshelve"]
    assert events(database, alarm.id)[-1][3] == "clock"


def test_a_chattering_alarm_is_marked_and_its_clear_held_until_it_calms_down(
    database: Database, monitor: AlarmMonitor, clock: Clock
) -> None:
    for second in (0, 20, 40):
        monitor.apply([change("raise", clock.ms(second), sev="minor")])
        monitor.apply([change("clear", clock.ms(second + 5), sev="minor")])
    alarm = alarm_row(database)
    assert alarm.chattering and alarm.clear_held
    assert alarm.state == "active_unacknowledged"  # held active, not flapping
    clock.now += timedelta(seconds=99)
    monitor.tick()
    assert alarm_row(database).chattering
    clock.now += timedelta(seconds=1)
    monitor.tick()
    alarm = alarm_row(database)
    assert (alarm.chattering, alarm.clear_held, alarm.state) == (
        False,
        False,
        "cleared_unacknowledged",
    )
    assert [e[0] for e in events(database, alarm.id)] == [
        "raise",
        "clear",
        "raise",
        "clear",
        "raise",
        "clear_held",
        "clear",
    ]


def test_more_than_ten_new_alarms_in_ten_minutes_flood_the_site(
    database: Database, monitor: AlarmMonitor, clock: Clock
) -> None:
    for n in range(12):
        device = DeviceKey("estate-1", "camera", f"camera-{n:03d}")
        monitor.apply(
            [change("raise", clock.ms(n * 30), rule="camera-offline", device=device, sev="minor")]
        )
    with database.read() as s:
        (flood,) = s.scalars(select(AlarmFlood)).all()
        grouped = s.scalars(select(Alarm.device_id).where(Alarm.flood_id == flood.id)).all()
    assert (flood.site, flood.alarm_count, flood.ended_at) == ("estate-1", 2, None)
    assert sorted(grouped) == ["camera-010", "camera-011"]
    clock.now += timedelta(minutes=16)
    monitor.tick()
    with database.read() as s:
        assert s.scalars(select(AlarmFlood.ended_at)).one() == clock.now


def test_rule_files_reload_and_a_bad_file_keeps_the_active_rules(
    database: Database, ledger: Ledger, clock: Clock, tmp_path: Path
) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(
        "rules:\n  - {id: pit-flooded, kind: event, system: elevator, codes: [pit_water],"
        " severity: critical}\n"
    )
    files = RuleFiles([path])
    monitor = AlarmMonitor(
        database,
        RuleEngine(files.load()),
        notifier=CollectingNotifier(),
        clock=clock,
        rule_files=files,
    )
    assert not monitor.reload_if_changed(clock())  # nothing changed
    path.write_text("rules:\n  - id: broken\n    kind: event\n    severity: loud\n")
    os.utime(path, ns=(1, 10**18))
    assert not monitor.reload_if_changed(clock())
    assert monitor.rule_error is not None
    assert (monitor.rule_error.path, monitor.rule_error.line) == (str(path), 4)  # severity
    assert [r.id for r in monitor.engine.rules] == ["pit-flooded"]  # still active
    monitor([DeviceEvent(LIFT, clock.ms(), "pit_water", None, None)])  # and still evaluated
    assert alarm_row(database, "pit-flooded").state == "active_unacknowledged"
    path.write_text(
        "rules:\n  - {id: door-fault, kind: event, system: elevator, codes: [door_fault],"
        " severity: major}\n"
    )
    os.utime(path, ns=(1, 2 * 10**18))
    assert monitor.reload_if_changed(clock())
    assert monitor.rule_error is None
    assert [r.id for r in monitor.engine.rules] == ["door-fault"]
    # the removed rule's alarm is cleared with the reason, not left standing forever
    alarm = alarm_row(database, "pit-flooded")
    assert alarm.state == "cleared_unacknowledged"
    assert alarm.values["reason"] == "rule changed"


def test_a_critical_alarm_notifies_engineering_and_a_minor_one_does_not(
    database: Database, ledger: Ledger, clock: Clock
) -> None:
    notifier = CollectingNotifier()
    monitor = AlarmMonitor(database, RuleEngine([]), notifier=notifier, clock=clock)
    monitor.apply([change("raise", clock.ms())])
    monitor.apply([change("raise", clock.ms(), rule="door-slow", sev="minor")])
    critical = [n for n in notifier.sent if n.kind == "critical_alarm"]
    assert len(critical) == 1
    (n,) = critical
    alarm = alarm_row(database)
    assert (n.recipient, n.alarm_id, n.message) == (
        "estate-1 engineering",
        alarm.id,
        "Passenger trapped on estate-1/elevator-001",
    )


def test_the_alarm_clock_lets_scorers_take_up_retrained_models(
    database: Database, ledger: Ledger, clock: Clock
) -> None:
    class Scorer:
        refreshed = 0

        def score(self, reading: object) -> list[ConditionChange]:
            return []

        def refresh(self) -> None:
            self.refreshed += 1

    scorer = Scorer()
    monitor = AlarmMonitor(
        database, RuleEngine([]), notifier=CollectingNotifier(), clock=clock, scorers=[scorer]
    )
    monitor.tick()
    monitor.tick()
    assert scorer.refreshed == 2

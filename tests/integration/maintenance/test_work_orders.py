"""The work-order repository contract, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from maintenance.alarms.models import Alarm
from maintenance.errors import ConcurrentUpdate, InvalidInput, NotFound
from maintenance.flows import intake, transitions, unit_of_work
from maintenance.flows import sla_watch as watch
from maintenance.flows.group_commit import TicketIntake
from maintenance.notifications.notifier import CollectingNotifier
from maintenance.scope import EVERYTHING
from maintenance.sla.models import SlaBreach, SlaPolicyOverride
from maintenance.storage.db import Database
from maintenance.vocabulary import Priority, TicketState
from maintenance.work_orders import queries, service
from maintenance.work_orders.lifecycle import TransitionNotAllowed
from maintenance.work_orders.models import Ticket, TicketEvent
from maintenance.work_orders.schemas import (
    CommentCreate,
    RatingCreate,
    TicketCreate,
    TransitionRequest,
)
from tests.ledger import NOW, Ledger, seed


@pytest.fixture
def ledger(database: Database) -> Ledger:
    return seed(database)


def new_ticket(db: Database, **fields: Any) -> int:
    data = {
        "site_id": 1,
        "type": "repair",
        "channel": "hotline",
        "title": "door slow",
        "asset_id": 1,
        **fields,
    }
    with db.transaction() as s:
        return intake.create(
            s, TicketCreate(**data), actor="desk", now=NOW, notifier=CollectingNotifier()
        ).id


def act(db: Database, ticket_id: int, action: str, at: Any = NOW, **fields: Any) -> Any:
    with db.transaction() as s:
        return transitions.transition(
            s,
            ticket_id,
            TransitionRequest(action=action, actor="tester", **fields),
            now=at,
            notifier=CollectingNotifier(),
        )


def test_a_repair_is_auto_assigned_with_its_reason_and_sla(
    database: Database, ledger: Ledger
) -> None:
    ticket_id = new_ticket(database, asset_id=ledger.pump)
    with database.transaction() as s:
        t = service.get(s, ticket_id)
        assert t.state is TicketState.assigned
        assert t.assignee_id == ledger.wang  # the only one with the water skill
        assert "skill water" in t.assignment_reason and "lowest of 1" in t.assignment_reason
        assert t.response_due == NOW + timedelta(hours=24)
        assert t.resolution_due == NOW + timedelta(hours=48)


def test_dispatch_balances_workload_and_serves_emergencies(
    database: Database, ledger: Ledger
) -> None:
    first = new_ticket(database, asset_id=ledger.lift)
    second = new_ticket(database, asset_id=ledger.lift, priority="emergency")
    with database.transaction() as s:
        a, b = service.get(s, first), service.get(s, second)
        assert {a.assignee_id, b.assignee_id} == {ledger.wang, ledger.li}
        assert b.response_due == NOW + timedelta(minutes=15)


def test_an_unassignable_emergency_escalates_at_once(database: Database, ledger: Ledger) -> None:
    notifier = CollectingNotifier()
    with database.transaction() as s:
        t = intake.create(
            s,
            TicketCreate(
                site_id=ledger.site,
                type="repair",
                channel="app",
                priority="emergency",
                title="camera dead",
                asset_id=ledger.camera,
            ),
            actor="app",
            now=NOW,
            notifier=notifier,
        )
        assert t.state is TicketState.new and t.assignee_id is None
        assert t.escalated and t.escalated_to == "sup-chen"
        assert "no technician with skill camera" in t.assignment_reason
    assert [n.kind for n in notifier.sent] == ["escalation"]


def test_full_lifecycle_and_the_audit_trail_replays_to_the_current_state(
    database: Database, ledger: Ledger
) -> None:
    ticket_id = new_ticket(database)
    act(database, ticket_id, "accept", committed_at=NOW + timedelta(hours=2))
    act(database, ticket_id, "start")
    act(database, ticket_id, "resolve", note="adjusted door operator")
    act(database, ticket_id, "reject", note="still slow")
    act(database, ticket_id, "accept", committed_at=NOW + timedelta(hours=5))
    act(database, ticket_id, "start")
    act(database, ticket_id, "resolve", note="replaced door motor")
    act(database, ticket_id, "verify", inspector="qa-zhou", requester_confirmed=True)
    act(database, ticket_id, "close")
    with database.transaction() as s:
        t = service.get(s, ticket_id)
        events = queries.audit_trail(s, ticket_id)
        assert t.state is TicketState.closed and t.reopen_count == 1
        assert t.responded_at == NOW and t.verified_by == "qa-zhou"
        assert [e.action for e in events] == [
            "create",
            "assign",
            "accept",
            "start",
            "resolve",
            "reject",
            "accept",
            "start",
            "resolve",
            "verify",
            "close",
        ]
        replayed: dict[str, Any] = {}
        for e in events:
            for name, (old, new) in e.changes.items():
                assert replayed.get(name) == old, (e.action, name)
                replayed[name] = new
        current = service.snapshot(t)
        assert {k: replayed.get(k) for k in current} == current


def test_a_refused_transition_changes_nothing(database: Database, ledger: Ledger) -> None:
    ticket_id = new_ticket(database)
    with pytest.raises(TransitionNotAllowed) as refused:
        act(database, ticket_id, "close")
    assert refused.value.state is TicketState.assigned
    with pytest.raises(InvalidInput, match="committed_at"):
        act(database, ticket_id, "accept")
    with database.transaction() as s:
        assert service.get(s, ticket_id).state is TicketState.assigned
        assert len(queries.audit_trail(s, ticket_id)) == 2


def test_stale_versions_are_refused(database: Database, ledger: Ledger) -> None:
    ticket_id = new_ticket(database)
    act(database, ticket_id, "accept", committed_at=NOW, expected_version=1)
    with pytest.raises(ConcurrentUpdate):
        act(database, ticket_id, "start", expected_version=1)


def test_low_satisfaction_reopens_the_work(database: Database, ledger: Ledger) -> None:
    ticket_id = new_ticket(database)
    for action, extra in (
        ("accept", {"committed_at": NOW}),
        ("start", {}),
        ("resolve", {"note": "done"}),
    ):
        act(database, ticket_id, action, **extra)
    with database.transaction() as s:
        t = service.rate(
            s,
            ticket_id,
            RatingCreate(rating=2, comment="still noisy"),
            now=NOW,
            notifier=CollectingNotifier(),
        )
        assert t.state is TicketState.reopened and t.satisfaction == 2 and t.reopen_count == 1


def test_complaints_scope_feedback_progress_and_return_visit(
    database: Database, ledger: Ledger
) -> None:
    with pytest.raises(InvalidInput, match="in_scope"):
        new_ticket(database, type="complaint", asset_id=None)
    out = new_ticket(database, type="complaint", asset_id=None, in_scope=False)
    complaint = new_ticket(database, type="complaint", asset_id=None, in_scope=True, complex=True)
    with database.transaction() as s:
        assert service.get(s, out).state is TicketState.cancelled
        t = service.get(s, complaint)
        assert t.response_due == NOW + timedelta(hours=24)
        assert t.progress_due == NOW + timedelta(hours=72)
        service.comment(
            s,
            complaint,
            CommentCreate(author="desk", body="we are on it", kind="feedback"),
            now=NOW + timedelta(hours=1),
        )
        service.comment(
            s,
            complaint,
            CommentCreate(author="desk", body="parts ordered", kind="progress"),
            now=NOW + timedelta(hours=2),
        )
        assert t.responded_at == NOW + timedelta(hours=1)
        assert t.progress_due == NOW + timedelta(hours=74)


def test_unknown_ids_and_cross_site_references(database: Database, ledger: Ledger) -> None:
    with pytest.raises(NotFound):
        new_ticket(database, asset_id=999)
    with pytest.raises(InvalidInput, match="asset_id"):
        new_ticket(database, site_id=ledger.other_site, asset_id=ledger.lift)
    with pytest.raises(NotFound), database.transaction() as s:
        service.get(s, 12345)


def test_breaches_are_recorded_once_escalated_and_never_recomputed(
    database: Database, ledger: Ledger
) -> None:
    ticket_id = new_ticket(database, priority="urgent")  # response due in 30 min
    notifier = CollectingNotifier()
    with database.transaction() as s:
        near = watch.check(s, now=NOW + timedelta(minutes=25), notifier=notifier)
    assert (near.breaches, near.near_breaches) == (0, 1)
    with database.transaction() as s:
        result = watch.check(s, now=NOW + timedelta(minutes=31), notifier=notifier)
    assert result.breaches == 1
    with database.transaction() as s:
        again = watch.check(s, now=NOW + timedelta(minutes=40), notifier=notifier)
        t = service.get(s, ticket_id)
        assert again.breaches == 0
        assert t.response_breached_at == NOW + timedelta(minutes=31)
        assert t.escalated and t.priority is Priority.emergency
        # a policy change afterwards does not recompute the breach away
        s.add(
            SlaPolicyOverride(
                site_id=ledger.site,
                ticket_type="repair",
                priority="urgent",
                response_minutes=600,
                resolution_minutes=None,
            )
        )
    act(database, ticket_id, "accept", committed_at=NOW + timedelta(hours=1))
    with database.transaction() as s:
        t = service.get(s, ticket_id)
        assert t.response_breached_at == NOW + timedelta(minutes=31)
        assert [b.kind for b in watch.breaches(s, ticket_id)] == ["near_response", "response"]
    assert [n.kind for n in notifier.sent] == ["sla_near_breach", "escalation", "sla_breach"]


def test_site_policies_override_the_defaults(database: Database, ledger: Ledger) -> None:
    with database.transaction() as s:
        s.add(
            SlaPolicyOverride(
                site_id=ledger.site,
                ticket_type="repair",
                priority=None,
                response_minutes=120,
                resolution_minutes=600,
            )
        )
    ticket_id = new_ticket(database)
    other = new_ticket(database, priority="emergency")
    with database.transaction() as s:
        assert service.get(s, ticket_id).response_due == NOW + timedelta(minutes=120)
        assert service.get(s, other).response_due == NOW + timedelta(minutes=15)


def test_filters_paginate_newest_first(database: Database, ledger: Ledger) -> None:
    ids = [new_ticket(database, title=f"t{i}") for i in range(7)]
    act(database, ids[0], "cancel", note="duplicate")
    with database.transaction() as s:
        page, total = queries.list_tickets(
            s,
            queries.TicketFilter(site_id=ledger.site, state=TicketState.assigned, scope=EVERYTHING),
            now=NOW,
            limit=4,
            offset=0,
        )
        assert total == 6 and [t.id for t in page] == sorted(ids[1:], reverse=True)[:4]
        history = queries.asset_history(s, ledger.lift, scope=EVERYTHING)
        assert [t.id for t in history] == sorted(ids, reverse=True)


def test_the_workload_counter_matches_a_real_count(database: Database, ledger: Ledger) -> None:
    from maintenance.dispatch.models import Technician
    from maintenance.dispatch.service import workloads

    ids = [new_ticket(database, title=f"t{i}") for i in range(6)]
    act(database, ids[0], "cancel", note="dup")
    act(database, ids[1], "assign", technician_id=ledger.zhao)
    act(database, ids[2], "accept", committed_at=NOW)
    act(database, ids[2], "start")
    act(database, ids[2], "resolve", note="done")
    act(database, ids[2], "reopen", note="again")
    with database.transaction() as s:
        technicians = list(s.query(Technician))
        counted = workloads(s, [t.id for t in technicians])
        assert {t.id: t.open_tickets for t in technicians} == {
            t.id: counted.get(t.id, 0) for t in technicians
        }
        assert sum(counted.values()) == 5


def test_random_action_sequences_keep_a_replayable_audit_trail(tmp_path: Any) -> None:
    """Property: whatever actions arrive, in whatever order, every ticket stays in a defined
    state and its audit trail replays to exactly that state."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from maintenance.storage.db import make_engine, migrate
    from maintenance.work_orders.lifecycle import Action

    engine = make_engine(f"sqlite:///{tmp_path / 'prop.sqlite'}")
    migrate(engine)
    db = unit_of_work.database(engine)
    ledger = seed(db)
    extras: dict[str, dict[str, Any]] = {
        "assign": {"technician_id": ledger.li},
        "accept": {"committed_at": NOW},
        "verify": {"inspector": "qa", "requester_confirmed": True},
        "reject": {"note": "x"},
        "reopen": {"note": "x"},
        "cancel": {"note": "x"},
        "escalate": {"note": "x"},
    }

    @settings(
        max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(st.lists(st.sampled_from([*[a.value for a in Action], "escalate", "rate"]), max_size=15))
    def run(actions: list[str]) -> None:
        ticket_id = new_ticket(db, asset_id=ledger.lift)
        for action in actions:
            try:
                if action == "rate":
                    with db.transaction() as s:
                        service.rate(
                            s,
                            ticket_id,
                            RatingCreate(rating=1),
                            now=NOW,
                            notifier=CollectingNotifier(),
                        )
                else:
                    act(db, ticket_id, action, **extras.get(action, {}))
            except TransitionNotAllowed:
                pass
        with db.transaction() as s:
            t = service.get(s, ticket_id)
            assert t.state in TicketState
            replayed: dict[str, Any] = {}
            for e in queries.audit_trail(s, ticket_id):
                for name, (old, new) in e.changes.items():
                    assert replayed.get(name) == old
                    replayed[name] = new
            current = service.snapshot(t)
            assert {k: replayed.get(k) for k in current} == current

    run()
    engine.dispose()


def test_group_commit_gives_each_concurrent_caller_its_own_ticket_or_error(
    database: Database, ledger: Ledger
) -> None:
    intake = TicketIntake(database, CollectingNotifier())
    results: dict[int, object] = {}

    def call(n: int) -> None:
        data = TicketCreate(
            site_id=ledger.site,
            type="repair",
            channel="app",
            title=f"request {n}",
            asset_id=ledger.lift if n != 7 else 999,  # one request names an unknown asset
        )
        try:
            results[n] = intake.create(data, actor=f"caller-{n % 2}", now=NOW).title
        except (InvalidInput, NotFound) as error:
            results[n] = error

    threads = [threading.Thread(target=call, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert isinstance(results.pop(7), NotFound | InvalidInput)
    assert results == {n: f"request {n}" for n in range(16) if n != 7}
    with database.read() as s:
        titles = s.scalars(select(Ticket.title).order_by(Ticket.id)).all()
        actors = s.scalars(select(TicketEvent.actor).where(TicketEvent.action == "create")).all()
    assert sorted(titles) == sorted(f"request {n}" for n in range(16) if n != 7)
    assert sorted(actors) == sorted(f"caller-{n % 2}" for n in range(16) if n != 7)


def test_the_requester_is_encrypted_at_rest_and_found_by_its_blind_index(
    database: Database, ledger: Ledger
) -> None:
    ticket_id = new_ticket(database, requester="Mrs Chen, Unit 1203, 138 0013 8000")
    new_ticket(database, requester="Mr Li, Unit 0501")
    with database.engine.connect() as raw:
        stored = raw.exec_driver_sql("SELECT requester FROM tickets ORDER BY id").scalars().all()
    # Phrases with spaces: a Fernet token (URL-safe base64) can hold "Li" by chance, never " ".
    personal = ("Mrs Chen", "Unit 1203", "138 0013 8000", "Mr Li", "Unit 0501")
    assert len(stored) == 2 and not any(p in v for p in personal for v in stored)
    assert all(" " not in v for v in stored)
    with database.read() as s:
        assert service.get(s, ticket_id).requester == "Mrs Chen, Unit 1203, 138 0013 8000"
        mine, total = queries.list_tickets(
            s,
            queries.TicketFilter(requester="Mrs Chen, Unit 1203, 138 0013 8000", scope=EVERYTHING),
            now=NOW,
        )
    assert ([t.id for t in mine], total) == ([ticket_id], 1)


def test_intake_records_each_failures_fault_and_the_failure_it_repeats(
    database: Database, ledger: Ledger
) -> None:
    with database.transaction() as s:
        alarm = Alarm(
            site="estate-1",
            system="elevator",
            device_id="lift-1",
            rule_id="elevator-door-slow",
            severity="minor",
            message="m",
            state="active_unacknowledged",
            occurrences=1,
            values={},
            chattering=False,
            updated_at=NOW,
        )
        s.add(alarm)
        s.flush()
        alarm_id = alarm.id

    def opened(at: Any, **fields: Any) -> Ticket:
        with database.transaction() as s:
            made = intake.create(
                s,
                TicketCreate(site_id=1, channel="app", title="t", opened_at=at, **fields),
                actor="desk",
                now=at,
                notifier=CollectingNotifier(),
            )
            s.expunge(made)
            return made

    first = opened(NOW, type="repair", asset_id=ledger.lift)
    again = opened(NOW + timedelta(days=30), type="repair", asset_id=ledger.lift)
    later = opened(NOW + timedelta(days=61), type="repair", asset_id=ledger.lift)
    other_asset = opened(NOW + timedelta(days=62), type="repair", asset_id=ledger.pump)
    by_alarm = opened(
        NOW + timedelta(days=62),
        type="alarm",
        asset_id=ledger.lift,
        source_ref=f"alarm:{alarm_id}:1",
        fault="elevator-door-slow",  # the alarm stage names its rule
    )
    complaint = opened(
        NOW + timedelta(days=62), type="complaint", asset_id=ledger.lift, in_scope=True
    )
    assert [(t.fault, t.repeat_of) for t in (first, again, later, other_asset)] == [
        ("repair", None),
        ("repair", first.id),  # exactly 30 days: still a repeat
        ("repair", None),  # 31 days after the previous one
        ("repair", None),
    ]
    assert (by_alarm.fault, by_alarm.repeat_of) == ("elevator-door-slow", None)  # another fault
    assert (complaint.fault, complaint.repeat_of) == (None, None)  # not a failure

    # In one batch, the second failure of the same fault repeats the first of the batch.
    at = NOW + timedelta(days=100)
    with database.transaction() as s:
        batch = intake.create_many(
            s,
            [
                TicketCreate(
                    site_id=1,
                    type="repair",
                    channel="app",
                    title=f"t{n}",
                    asset_id=ledger.pump,
                    opened_at=at + timedelta(hours=n),
                )
                for n in range(2)
            ],
            actor="desk",
            now=at,
            notifier=CollectingNotifier(),
        )
        assert [t.repeat_of for t in batch] == [None, batch[0].id]


def test_the_sla_watch_copes_with_more_open_tickets_than_a_query_takes_parameters(
    pg_database: Database,
) -> None:
    """70,000 open tickets watched (more than the 65,535 parameters a PostgreSQL statement
    takes), 1,500 of them overdue: the watch records them instead of failing on every run, at
    most 1,000 a run, the longest overdue first."""
    seed(pg_database)
    insert = text(
        "INSERT INTO tickets (version, site_id, type, channel, priority, state, title,"
        " description, requester, created_at, updated_at, response_due, escalated,"
        " assignment_reason, reopen_count, complex)"
        " SELECT 1, 1, 'repair', 'hotline', 'normal', 'new', 'x', '', '', :opened,"
        " :opened, :due, false, '', 0, false FROM generate_series(1, :n)"
    )
    with pg_database.transaction() as s:
        s.execute(insert, {"opened": NOW, "due": NOW + timedelta(days=30), "n": 70_000})
        for hours, n in ((3, 1000), (2, 500)):
            due = NOW - timedelta(hours=hours)
            s.execute(insert, {"opened": due - timedelta(hours=1), "due": due, "n": n})
    runs = []
    for _ in range(3):
        with pg_database.transaction() as s:
            runs.append(watch.check(s, now=NOW, notifier=CollectingNotifier()).breaches)
    assert runs == [1000, 500, 0]  # bounded a run, each recorded once
    with pg_database.transaction() as s:
        first = s.scalars(select(SlaBreach.due).order_by(SlaBreach.id).limit(1000)).all()
    assert set(first) == {NOW - timedelta(hours=3)}  # the longest overdue went first

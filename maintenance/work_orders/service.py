"""Work-order operations. Each runs inside the caller's transaction and records every change
in the audit trail (TicketEvent: who, when, field from -> to)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, event, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from maintenance.assets.models import Asset, Location, Site
from maintenance.dispatch.models import Team, Technician
from maintenance.dispatch.service import DispatchPool
from maintenance.errors import ConcurrentUpdate, InvalidInput, NotFound
from maintenance.notifications.notifier import Notification, Notifier
from maintenance.sla.calendar import BusinessCalendar
from maintenance.sla.policy import SlaPolicies, SlaTarget, due_times
from maintenance.storage.db import get_required
from maintenance.vocabulary import OPEN_STATES, Channel, Priority, TicketState, TicketType
from maintenance.work_orders import failures
from maintenance.work_orders.lifecycle import Action, TransitionNotAllowed, next_state
from maintenance.work_orders.models import Comment, Ticket, TicketEvent
from maintenance.work_orders.schemas import (
    CommentCreate,
    RatingCreate,
    TicketCreate,
    TransitionRequest,
)

technicians_table: Table = Technician.__table__  # type: ignore[assignment]
M = TypeVar("M", Site, Asset, Location)
OPEN_VALUES = frozenset(s.value for s in OPEN_STATES)
RETURN_VISIT_AFTER = timedelta(days=7)
PROGRESS_EVERY = timedelta(hours=72)
AUDITED = (
    "state",
    "priority",
    "assignee_id",
    "assignment_reason",
    "committed_at",
    "escalated",
    "escalated_to",
    "escalation_reason",
    "response_due",
    "resolution_due",
    "progress_due",
    "responded_at",
    "resolved_at",
    "closed_at",
    "response_breached_at",
    "resolution_breached_at",
    "in_scope",
    "return_visit_due",
    "return_visit_at",
    "satisfaction",
    "reopen_count",
    "cancel_reason",
    "verified_by",
    "requester_confirmed_at",
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value.value if isinstance(value, Enum) else value


_UNLOADED = object()


def snapshot(ticket: Ticket) -> dict[str, Any]:
    # Loaded values are read from the instance dict (the hot path of batch intake); anything
    # expired or deferred goes through the attribute, which loads it.
    loaded = ticket.__dict__
    out = {}
    for name in AUDITED:
        value = loaded.get(name, _UNLOADED)
        out[name] = _plain(getattr(ticket, name) if value is _UNLOADED else value)
    return out


def _track_workload(session: Session, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Keep Technician.open_tickets in step. A transaction's deltas are applied just before it
    commits, in one statement, so a batch does not pay a round trip per assignment."""
    was = before.get("assignee_id") if before.get("state") in OPEN_VALUES else None
    now_ = after.get("assignee_id") if after.get("state") in OPEN_VALUES else None
    if was == now_:
        return
    deltas: Counter[int] = session.info.setdefault("workload_deltas", Counter())
    for technician_id, delta in ((was, -1), (now_, 1)):
        if technician_id is not None:
            deltas[technician_id] += delta


@event.listens_for(Session, "before_commit")
def _apply_workload_deltas(session: Session) -> None:
    deltas: Counter[int] = session.info.pop("workload_deltas", Counter())
    params = [{"tid": t, "delta": d} for t, d in sorted(deltas.items()) if d]  # sorted: lock order
    if params:
        # One executemany (pipelined by psycopg) rather than a round trip per technician.
        session.connection().execute(
            update(technicians_table)
            .where(technicians_table.c.id == bindparam("tid"))
            .values(open_tickets=technicians_table.c.open_tickets + bindparam("delta")),
            params,
        )


@event.listens_for(Session, "after_rollback")
def _forget_workload_deltas(session: Session) -> None:
    session.info.pop("workload_deltas", None)


def record(
    session: Session,
    ticket: Ticket,
    before: dict[str, Any],
    *,
    actor: str,
    action: str,
    now: datetime,
    note: str = "",
    after: dict[str, Any] | None = None,
    into: list[dict[str, Any]] | None = None,
) -> None:
    """Append the audit event for the change from `before` to `after` (default: the ticket now)."""
    after = snapshot(ticket) if after is None else after
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    if "state" in changes or "assignee_id" in changes:
        _track_workload(session, before, after)
    if ticket.updated_at != now:  # an equal value would still make the row dirty
        ticket.updated_at = now
    row = {
        "ticket_id": ticket.id,
        "at": now,
        "actor": actor,
        "action": action,
        "changes": changes,
        "note": note,
    }
    if into is not None:
        into.append(row)  # the caller writes a batch's events in one executemany
    else:
        session.add(TicketEvent(**row))


def get(session: Session, ticket_id: int) -> Ticket:
    return get_required(session, Ticket, ticket_id, "ticket")


def supervisor_for(session: Session, ticket: Ticket) -> str:
    site = session.get(Site, ticket.site_id)
    if site and site.supervisor:
        return site.supervisor
    if ticket.assignee_id is not None:
        technician = session.get(Technician, ticket.assignee_id)
        if technician and technician.team_id:
            team = session.get(Team, technician.team_id)
            if team and team.supervisor:
                return team.supervisor
    return "supervisor"


def escalate(
    session: Session,
    ticket: Ticket,
    reason: str,
    *,
    now: datetime,
    notifier: Notifier,
    actor: str = "system",
    raise_priority: bool = False,
) -> None:
    before = snapshot(ticket)
    ticket.escalated = True
    ticket.escalated_to = supervisor_for(session, ticket)
    ticket.escalation_reason = reason
    if raise_priority:
        ticket.priority = Priority(ticket.priority).raised()
    record(session, ticket, before, actor=actor, action="escalate", now=now, note=reason)
    notifier.notify(Notification("escalation", ticket.escalated_to, ticket.id, reason))


def create(
    session: Session, data: TicketCreate, *, actor: str, now: datetime, notifier: Notifier
) -> Ticket:
    return create_many(session, [data], actor=actor, now=now, notifier=notifier)[0]


def create_many(
    session: Session,
    items: Sequence[TicketCreate],
    *,
    actor: str,
    now: datetime,
    notifier: Notifier,
) -> list[Ticket]:
    """Register tickets (one, or a batch from an integration, the alarm engine or the schedule):
    SLA due times, the audit trail, then dispatch, emergencies first. A batch is one unit: any
    invalid item refuses all of it, its error naming the item (`3.asset_id`)."""
    sites = _by_id(session, Site, {d.site_id for d in items})
    assets = _by_id(session, Asset, {d.asset_id for d in items if d.asset_id is not None})
    locations = _by_id(
        session, Location, {d.location_id for d in items if d.location_id is not None}
    )
    policies = SlaPolicies(session, set(sites))
    targets: dict[tuple[int, TicketType, Priority], SlaTarget] = {}
    tickets: list[Ticket] = []
    for index, data in enumerate(items):
        where = f"{index}." if len(items) > 1 else ""
        site = _check(data, sites, assets, locations, where)
        opened = data.opened_at or now
        key = (site.id, data.type, data.priority)
        if key not in targets:
            targets[key] = policies.target(site.id, data.type, data.priority)
        due = due_times(
            targets[key],
            opened,
            BusinessCalendar(site.business_hours, site.timezone),
            data.priority,
            complex_complaint=data.type is TicketType.complaint and data.complex,
        )
        tickets.append(
            Ticket(
                **data.model_dump(exclude={"opened_at", "due_at"}),
                state=TicketState.new,
                created_at=opened,
                updated_at=now,
                response_due=due.response_due,
                resolution_due=data.due_at or due.resolution_due,
                progress_due=due.progress_due,
                escalated=False,
                reopen_count=0,
                assignment_reason="",
            )
        )
    # Dispatch before inserting, emergencies first: each ticket is inserted in its final state
    # (one INSERT for the batch, no UPDATE per ticket); the audit trail still shows both steps.
    pool = DispatchPool(session, set(sites))
    steps: dict[int, tuple[dict[str, Any], str, str, str]] = {}
    unassigned_emergencies: list[Ticket] = []
    for index in sorted(range(len(tickets)), key=lambda i: (tickets[i].priority.rank, i)):
        ticket = tickets[index]
        created = snapshot(ticket)
        if ticket.type is TicketType.complaint and ticket.in_scope is False:
            ticket.state = next_state(TicketState.new, Action.cancel)
            ticket.cancel_reason = note = "out of scope at intake"
            steps[index] = (created, actor, Action.cancel.value, note)
            continue
        asset = assets.get(ticket.asset_id) if ticket.asset_id is not None else None
        choice = pool.choose(ticket.site_id, asset.system.value if asset else None, now)
        ticket.assignment_reason = choice.reason
        if choice.technician is None:
            steps[index] = (created, "dispatch", "dispatch", choice.reason)
            if ticket.priority is Priority.emergency:
                unassigned_emergencies.append(ticket)
            continue
        ticket.state = next_state(TicketState.new, Action.assign)
        ticket.assignee_id = choice.technician.id
        steps[index] = (created, "dispatch", Action.assign.value, choice.reason)
    repeats_in_batch = failures.classify(session, tickets)
    _preassign_ids(session, tickets)
    session.add_all(tickets)
    session.flush()
    if repeats_in_batch:
        failures.link_repeats(repeats_in_batch)
    events: list[dict[str, Any]] = []
    for index, ticket in enumerate(tickets):
        created, step_actor, step, note = steps[index]
        target = targets[(ticket.site_id, ticket.type, ticket.priority)]
        record(
            session,
            ticket,
            {},
            actor=actor,
            action="create",
            now=now,
            note=f"SLA from {target.source}",
            into=events,
            after=created,
        )
        record(
            session, ticket, created, actor=step_actor, action=step, now=now, note=note, into=events
        )
    session.execute(insert(TicketEvent), events)
    for ticket in unassigned_emergencies:
        escalate(
            session,
            ticket,
            f"unassigned emergency: {ticket.assignment_reason}",
            now=now,
            notifier=notifier,
            actor="dispatch",
        )
    return tickets


def _preassign_ids(session: Session, tickets: list[Ticket]) -> None:
    """On PostgreSQL, take the ids from the sequence first: the batch then goes out as one
    pipelined executemany of a short INSERT rather than one INSERT ... RETURNING with a
    placeholder per value (which the driver spends longer parsing than the server inserting).
    Elsewhere the ORM's own batching is used."""
    if len(tickets) < 2 or session.get_bind().dialect.name != "postgresql":
        return
    ids = session.scalars(
        select(func.nextval("tickets_id_seq")).select_from(func.generate_series(1, len(tickets)))
    ).all()
    for ticket, new_id in zip(tickets, ids, strict=True):
        ticket.id = int(new_id)


def _by_id(session: Session, model: type[M], ids: set[int]) -> dict[int, M]:
    if not ids:
        return {}
    rows = session.scalars(select(model).where(model.id.in_(ids)))
    return {row.id: row for row in rows}


def _check(
    data: TicketCreate,
    sites: dict[int, Site],
    assets: dict[int, Asset],
    locations: dict[int, Location],
    where: str,
) -> Site:
    site = sites.get(data.site_id)
    if site is None:
        raise NotFound("site", data.site_id)
    if data.asset_id is not None:
        asset = assets.get(data.asset_id)
        if asset is None:
            raise NotFound("asset", data.asset_id)
        if asset.site_id != site.id:
            raise InvalidInput(f"{where}asset_id", f"asset {asset.id} is not on site {site.id}")
    elif data.type not in (TicketType.complaint, TicketType.suggestion) and not data.location_id:
        raise InvalidInput(
            f"{where}asset_id", f"a {data.type.value} ticket needs an asset or a location"
        )
    if data.location_id is not None:
        location = locations.get(data.location_id)
        if location is None:
            raise NotFound("location", data.location_id)
        if location.site_id != site.id:
            raise InvalidInput(
                f"{where}location_id", f"location {location.id} is not on site {site.id}"
            )
    if data.type is TicketType.complaint and data.in_scope is None:
        raise InvalidInput(
            f"{where}in_scope", "complaints need the intake scope check (true/false)"
        )
    for name in ("opened_at", "due_at"):
        moment = getattr(data, name)
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput(f"{where}{name}", "needs a time zone offset")
    return site


def transition(
    session: Session,
    ticket_id: int,
    request: TransitionRequest,
    *,
    now: datetime,
    notifier: Notifier,
) -> Ticket:
    ticket = get(session, ticket_id)
    if request.expected_version is not None and request.expected_version != ticket.version:
        raise ConcurrentUpdate(ticket_id)
    if request.action == "escalate":
        if ticket.state not in OPEN_STATES:
            raise TransitionNotAllowed(TicketState(ticket.state), "escalate")
        if not request.note:
            raise InvalidInput("note", "say why the ticket is escalated")
        escalate(session, ticket, request.note, now=now, notifier=notifier, actor=request.actor)
    else:
        _apply(session, ticket, request, now, notifier)
    try:
        session.flush()
    except StaleDataError:
        raise ConcurrentUpdate(ticket_id) from None
    return ticket


def _apply(
    session: Session,
    ticket: Ticket,
    request: TransitionRequest,
    now: datetime,
    notifier: Notifier,
) -> None:
    action = Action(request.action) if request.action in Action._value2member_map_ else None
    if action is None:
        raise TransitionNotAllowed(TicketState(ticket.state), str(request.action))
    target = next_state(TicketState(ticket.state), action)
    before = snapshot(ticket)
    note = request.note
    if action is Action.assign:
        if request.technician_id is None:
            raise InvalidInput("technician_id", "required to assign")
        technician = get_required(session, Technician, request.technician_id, "technician")
        ticket.assignee_id = technician.id
        if request.actor != "dispatch":
            note = note or f"manual assignment by {request.actor}"
        ticket.assignment_reason = note
        ticket.committed_at = None
    elif action is Action.accept:
        if request.committed_at is None:
            raise InvalidInput("committed_at", "the technician commits to a time when accepting")
        ticket.committed_at = request.committed_at
        ticket.responded_at = ticket.responded_at or now
    elif action is Action.resolve:
        ticket.resolved_at = now
    elif action is Action.confirm:
        ticket.requester_confirmed_at = now
    elif action is Action.verify:
        if not request.inspector:
            raise InvalidInput("inspector", "the quality inspector's second check is required")
        why = _unconfirmed(ticket, request)
        if why is not None:
            raise InvalidInput("requester_confirmed", why)
        ticket.verified_by = request.inspector
    elif action in (Action.reject, Action.reopen):
        if not note:
            raise InvalidInput("note", "say what must be rectified")
        ticket.reopen_count += 1
        ticket.resolved_at = ticket.closed_at = None
    elif action is Action.close:
        ticket.closed_at = now
        if ticket.type is TicketType.complaint:
            ticket.return_visit_due = now + RETURN_VISIT_AFTER
    elif action is Action.cancel:
        if not note:
            raise InvalidInput("note", "a cancellation needs a reason")
        ticket.cancel_reason = note
    ticket.state = target
    record(session, ticket, before, actor=request.actor, action=action.value, now=now, note=note)


def _unconfirmed(ticket: Ticket, request: TransitionRequest) -> str | None:
    """Why the requester's acceptance is missing, or None. The service's own work (alarms,
    schedules) has no requester; a request filed in the app is confirmed there by its requester;
    one taken by phone or at the desk may be confirmed to the inspector, who records it."""
    if ticket.channel in (Channel.alarm, Channel.schedule) or not ticket.requester:
        return None
    if ticket.requester_confirmed_at is not None:
        return None
    if ticket.channel is Channel.app:
        return "the requester has not confirmed the result in the app yet"
    if request.requester_confirmed is not True:
        return "the requester must accept the result"
    return None


def comment(session: Session, ticket_id: int, data: CommentCreate, *, now: datetime) -> Comment:
    ticket = get(session, ticket_id)
    before = snapshot(ticket)
    if data.kind == "feedback" and ticket.responded_at is None:
        ticket.responded_at = now  # a complaint's feedback to the requester is its response
    if data.kind == "progress" and ticket.progress_due is not None:
        ticket.progress_due = now + PROGRESS_EVERY
    if data.kind == "return_visit":
        if ticket.state is not TicketState.closed:
            raise InvalidInput("kind", "a return visit follows a closed ticket")
        ticket.return_visit_at = now
    note = Comment(ticket_id=ticket.id, at=now, author=data.author, kind=data.kind, body=data.body)
    session.add(note)
    session.flush()  # the answer carries the comment's id
    record(
        session,
        ticket,
        before,
        actor=data.author,
        action=f"comment:{data.kind}",
        now=now,
        note=data.body[:200],
    )
    return note


def rate(
    session: Session,
    ticket_id: int,
    data: RatingCreate,
    *,
    now: datetime,
    notifier: Notifier,
    reopen_at_or_below: int = 2,
) -> Ticket:
    ticket = get(session, ticket_id)
    if ticket.state not in (TicketState.resolved, TicketState.verified, TicketState.closed):
        raise TransitionNotAllowed(TicketState(ticket.state), "rate")
    before = snapshot(ticket)
    ticket.satisfaction = data.rating
    ticket.satisfaction_comment = data.comment
    record(session, ticket, before, actor=data.actor, action="rate", now=now, note=data.comment)
    if data.rating <= reopen_at_or_below:
        _apply(
            session,
            ticket,
            TransitionRequest(
                action=Action.reopen,
                actor="system",
                note=f"satisfaction {data.rating}/5: rectification "
                f"({data.comment or 'no comment'})",
            ),
            now,
            notifier,
        )
    return ticket

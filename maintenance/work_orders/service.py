"""Work-order operations. Each runs inside the caller's transaction and records every change
in the audit trail (TicketEvent: who, when, field from -> to). What crosses into the other
domains (SLA, dispatch, escalation) is in maintenance/flows/."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from maintenance.assets.models import Asset, Location, Site
from maintenance.errors import InvalidInput, NotFound
from maintenance.language import phrases
from maintenance.notifications.notifier import Notifier
from maintenance.storage.db import get_required
from maintenance.vocabulary import (
    OPEN_STATES,
    PREDICTIVE_FAULT_PREFIX,
    Channel,
    TicketState,
    TicketType,
)
from maintenance.work_orders import failures
from maintenance.work_orders.lifecycle import Action, TransitionNotAllowed, next_state
from maintenance.work_orders.models import Comment, Ticket, TicketEvent
from maintenance.work_orders.schemas import (
    CommentCreate,
    RatingCreate,
    TicketCreate,
    TransitionRequest,
)

M = TypeVar("M", Site, Asset, Location)
# The pending change of each technician's open-ticket count, kept on the session by `record`
# and written by the unit of work before it commits (maintenance/dispatch/workload.py).
WORKLOAD_DELTAS = "workload_deltas"
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
    "finding",
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
    deltas: Counter[int] = session.info.setdefault(WORKLOAD_DELTAS, Counter())
    for technician_id, delta in ((was, -1), (now_, 1)):
        if technician_id is not None:
            deltas[technician_id] += delta


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


def by_id(session: Session, model: type[M], ids: set[int]) -> dict[int, M]:
    if not ids:
        return {}
    rows = session.scalars(select(model).where(model.id.in_(ids)))
    return {row.id: row for row in rows}


def validate_new(
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


def insert_new(
    session: Session,
    tickets: list[Ticket],
    steps: Mapping[int, tuple[dict[str, Any], str, str, str]],
    *,
    actor: str,
    now: datetime,
    created_notes: Sequence[str],
) -> None:
    """Insert new tickets in their final state with their audit trail: each ticket's `create`
    (its state as built) and its first step (dispatch or cancel), in one executemany."""
    repeats_in_batch = failures.classify(session, tickets)
    _preassign_ids(session, tickets)
    session.add_all(tickets)
    session.flush()
    if repeats_in_batch:
        failures.link_repeats(repeats_in_batch)
    events: list[dict[str, Any]] = []
    for index, ticket in enumerate(tickets):
        created, step_actor, step, note = steps[index]
        record(
            session,
            ticket,
            {},
            actor=actor,
            action="create",
            now=now,
            note=created_notes[index],
            into=events,
            after=created,
        )
        record(
            session, ticket, created, actor=step_actor, action=step, now=now, note=note, into=events
        )
    session.execute(insert(TicketEvent), events)


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


def is_predictive(ticket: Ticket) -> bool:
    """A predictive inspection: the ticket an anomaly model's finding opened."""
    return bool(ticket.fault and ticket.fault.startswith(PREDICTIVE_FAULT_PREFIX))


def _finding(ticket: Ticket, request: TransitionRequest) -> str | None:
    """A predictive inspection is resolved with the technician's verdict on the finding (the
    models learn from it); no other ticket has one."""
    if not is_predictive(ticket):
        if request.finding is not None:
            raise InvalidInput("finding", "only a predictive inspection's resolution states one")
        return None
    if request.finding is None:
        raise InvalidInput(
            "finding",
            "say whether the inspection found a fault (confirmed) or not (no_fault_found)",
        )
    return request.finding.value


def apply(
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
    if request.finding is not None and action is not Action.resolve:
        raise InvalidInput("finding", "a finding is stated when resolving")
    before = snapshot(ticket)
    note = request.note
    if action is Action.assign:
        if request.technician_id is None:
            raise InvalidInput("technician_id", "required to assign")
        # The technician exists: the caller (maintenance.flows.transitions) looked it up.
        ticket.assignee_id = request.technician_id
        if request.actor != "dispatch":
            note = note or phrases.MANUAL_ASSIGNMENT.write(actor=request.actor)
        ticket.assignment_reason = note
        ticket.committed_at = None
    elif action is Action.accept:
        if request.committed_at is None:
            raise InvalidInput("committed_at", "the technician commits to a time when accepting")
        ticket.committed_at = request.committed_at
        ticket.responded_at = ticket.responded_at or now
    elif action is Action.resolve:
        ticket.resolved_at = now
        ticket.finding = _finding(ticket, request)
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
        ticket.finding = None  # the work is done again, and judged again
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
        apply(
            session,
            ticket,
            TransitionRequest(
                action=Action.reopen,
                actor="system",
                note=(
                    phrases.RECTIFICATION.write(rating=data.rating, comment=data.comment)
                    if data.comment
                    else phrases.RECTIFICATION_NO_COMMENT.write(rating=data.rating)
                ),
            ),
            now,
            notifier,
        )
    return ticket

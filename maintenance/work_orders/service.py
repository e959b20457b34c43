"""Work-order operations. Each runs inside the caller's transaction and records every change
in the audit trail (TicketEvent: who, when, field from -> to)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from maintenance.assets.models import Asset, Location, Site
from maintenance.dispatch.models import Team, Technician
from maintenance.dispatch.service import choose_technician
from maintenance.errors import ConcurrentUpdate, InvalidInput, NotFound
from maintenance.notify import Notification, Notifier
from maintenance.sla.calendar import BusinessCalendar
from maintenance.sla.policy import due_times, target_for
from maintenance.vocabulary import OPEN_STATES, Priority, TicketState, TicketType
from maintenance.work_orders.lifecycle import Action, TransitionNotAllowed, next_state
from maintenance.work_orders.models import Comment, Ticket, TicketEvent
from maintenance.work_orders.schemas import (
    CommentCreate,
    RatingCreate,
    TicketCreate,
    TransitionRequest,
)

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
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value.value if hasattr(value, "value") else value


def snapshot(ticket: Ticket) -> dict[str, Any]:
    return {name: _plain(getattr(ticket, name)) for name in AUDITED}


def record(
    session: Session,
    ticket: Ticket,
    before: dict[str, Any],
    *,
    actor: str,
    action: str,
    now: datetime,
    note: str = "",
) -> None:
    after = snapshot(ticket)
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    ticket.updated_at = now
    session.add(
        TicketEvent(
            ticket_id=ticket.id, at=now, actor=actor, action=action, changes=changes, note=note
        )
    )


def get(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("ticket", ticket_id)
    return ticket


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
    site = session.get(Site, data.site_id)
    if site is None:
        raise NotFound("site", data.site_id)
    if data.asset_id is not None:
        asset = session.get(Asset, data.asset_id)
        if asset is None:
            raise NotFound("asset", data.asset_id)
        if asset.site_id != site.id:
            raise InvalidInput("asset_id", f"asset {asset.id} is not on site {site.id}")
    elif data.type not in (TicketType.complaint, TicketType.suggestion) and not data.location_id:
        raise InvalidInput("asset_id", f"a {data.type.value} ticket needs an asset or a location")
    if data.location_id is not None:
        location = session.get(Location, data.location_id)
        if location is None:
            raise NotFound("location", data.location_id)
        if location.site_id != site.id:
            raise InvalidInput("location_id", f"location {location.id} is not on site {site.id}")
    if data.type is TicketType.complaint and data.in_scope is None:
        raise InvalidInput("in_scope", "complaints need the intake scope check (true/false)")
    opened = data.opened_at or now
    if opened.tzinfo is None:
        raise InvalidInput("opened_at", "needs a time zone offset")
    target = target_for(session, site.id, data.type, data.priority)
    due = due_times(
        target,
        opened,
        BusinessCalendar(site.business_hours, site.timezone),
        data.priority,
        complex_complaint=data.type is TicketType.complaint and data.complex,
    )
    ticket = Ticket(
        **data.model_dump(exclude={"opened_at"}),
        state=TicketState.new,
        created_at=opened,
        updated_at=now,
        response_due=due.response_due,
        resolution_due=due.resolution_due,
        progress_due=due.progress_due,
        escalated=False,
        reopen_count=0,
        assignment_reason="",
    )
    session.add(ticket)
    session.flush()
    record(
        session, ticket, {}, actor=actor, action="create", now=now, note=f"SLA from {target.source}"
    )
    if data.type is TicketType.complaint and data.in_scope is False:
        _apply(
            session,
            ticket,
            TransitionRequest(action=Action.cancel, actor=actor, note="out of scope at intake"),
            now,
            notifier,
        )
        return ticket
    dispatch(session, ticket, now=now, notifier=notifier)
    return ticket


def dispatch(session: Session, ticket: Ticket, *, now: datetime, notifier: Notifier) -> None:
    choice = choose_technician(session, ticket, now)
    if choice.technician is None:
        before = snapshot(ticket)
        ticket.assignment_reason = choice.reason
        record(
            session,
            ticket,
            before,
            actor="dispatch",
            action="dispatch",
            now=now,
            note=choice.reason,
        )
        if ticket.priority is Priority.emergency:
            escalate(
                session,
                ticket,
                f"unassigned emergency: {choice.reason}",
                now=now,
                notifier=notifier,
                actor="dispatch",
            )
        return
    _apply(
        session,
        ticket,
        TransitionRequest(
            action=Action.assign,
            actor="dispatch",
            technician_id=choice.technician.id,
            note=choice.reason,
        ),
        now,
        notifier,
    )


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
        technician = session.get(Technician, request.technician_id)
        if technician is None:
            raise NotFound("technician", request.technician_id)
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
    elif action is Action.verify:
        if not request.inspector:
            raise InvalidInput("inspector", "the quality inspector's second check is required")
        if request.requester_confirmed is not True:
            raise InvalidInput("requester_confirmed", "the requester must accept the result")
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

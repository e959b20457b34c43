"""Work orders on screen: the board by state with SLA countdowns, a ticket's detail (audit
trail, checklist, attachments), a technician's own tickets on a phone, a requester's requests."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.auth import ALL, STAFF, Principal
from api.console.render import page
from api.console.session import ControlRoom, viewer
from api.deps import DatabaseDep, NowDep
from api.routes.tickets import ALLOWED, visible
from maintenance.alarms.tickets import ticket_alarms
from maintenance.assets.models import Location
from maintenance.assets.service import labels, where
from maintenance.dispatch import roster
from maintenance.dispatch.models import Technician
from maintenance.scope import Scope
from maintenance.vocabulary import Id, TicketState
from maintenance.work_orders import disclosure, permissions, queries
from maintenance.work_orders.models import Attachment, Ticket

router = APIRouter()
Staff = Annotated[Principal, Depends(viewer(STAFF))]
Anyone = Annotated[Principal, Depends(viewer(ALL))]
BOARD_STATES = (
    TicketState.new,
    TicketState.assigned,
    TicketState.accepted,
    TicketState.in_progress,
    TicketState.reopened,
    TicketState.resolved,
)
PER_COLUMN = 100
# What a technician does next on a phone, in order (the first allowed is the big button).
NEXT_STEP = ("accept", "start", "resolve")


def _technicians(s: Session, scope: Scope) -> dict[int, str]:
    """The names of the technicians the viewer sees (others' tickets show no name)."""
    query = select(Technician.id, Technician.name).where(roster.within(scope))
    return {row.id: row.name for row in s.execute(query)}


def _column(s: Session, state: TicketState, scope: Scope) -> tuple[list[Ticket], int]:
    """Most urgent first: priority, then the nearest due time of the next step; the viewer's
    scope only."""
    within = scope.where(Ticket.site_id, Ticket.asset_id)
    total = s.scalar(select(func.count()).where(Ticket.state == state, within)) or 0
    rows = s.scalars(
        select(Ticket)
        .where(Ticket.state == state, within)
        .order_by(*queries.urgency_order())
        .limit(PER_COLUMN)
    ).all()
    return list(rows), total


@router.get("/console/tickets", response_class=HTMLResponse)
def board(request: Request, db: DatabaseDep, me: ControlRoom) -> HTMLResponse:
    with db.read() as s:
        columns = [(state, *_column(s, state, me.scope)) for state in BOARD_STATES]
        names = _technicians(s, me.scope)
    return page(request, "board.html", me, columns=columns, names=names, limit=PER_COLUMN)


def _ticket_view(s: Session, ticket_id: int, me: Principal) -> dict[str, Any]:
    ticket = visible(s, ticket_id, me)
    asset = labels(s, {ticket.asset_id}).get(ticket.asset_id) if ticket.asset_id else None
    place = s.get(Location, ticket.location_id) if ticket.location_id else None
    return {
        "ticket": ticket,
        "asset": asset,
        "place": where(place) if place else (asset.where if asset else ""),
        "may_rate": permissions.why_not_rate(me, ticket) is None
        and ticket.state in ("resolved", "verified", "closed")
        and ticket.satisfaction is None,
        "requester": ticket.requester if disclosure.sees_requester(me) else None,
        "actions": permissions.actions_for(me, ticket, ALLOWED[ticket.state]),
        "events": disclosure.trail(me, queries.audit_trail(s, ticket_id)),
        "comments": disclosure.comments(me, queries.comments(s, ticket_id)),
        "attachments": list(
            s.scalars(
                select(Attachment).where(Attachment.ticket_id == ticket_id).order_by(Attachment.id)
            )
        ),
        "alarms": ticket_alarms(s, ticket_id) if me.role != "requester" else [],
        "names": _technicians(s, me.scope),
        "may_touch": permissions.why_not_touch(me, ticket, "change tickets") is None,
        "may_record": permissions.why_not_record_checklist(me, ticket) is None,
    }


@router.get("/console/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(ticket_id: Id, request: Request, db: DatabaseDep, me: Anyone) -> HTMLResponse:
    with db.read() as s:
        return page(request, "ticket.html", me, **_ticket_view(s, ticket_id, me))


@router.get("/console/my", response_class=HTMLResponse)
def my_tickets(request: Request, db: DatabaseDep, now: NowDep, me: Staff) -> HTMLResponse:
    """A technician's open tickets, most urgent first, each with its next step."""
    tickets: list[Ticket] = []
    if me.technician_id is not None:
        with db.read() as s:
            f = queries.TicketFilter(assignee_id=me.technician_id, scope=me.scope)
            rows, _ = queries.list_tickets(s, f, now=now, limit=200, with_total=False)
            tickets = sorted((t for t in rows if t.state in BOARD_STATES[:-1]), key=queries.urgency)
    steps = {t.id: next((a for a in NEXT_STEP if a in ALLOWED[t.state]), None) for t in tickets}
    return page(request, "my.html", me, tickets=tickets, steps=steps)

"""Work orders: intake, filtered lists, transitions, comments, ratings, attachments, audit."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Form, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.auth import CONTROL_ROOM, Principal, PrincipalDep, access, audit_name, refuse
from api.deps import AttachmentsDep, DatabaseDep, IntakeDep, NotifierDep, NowDep
from api.headers import download
from maintenance.db import Database
from maintenance.errors import NotFound
from maintenance.vocabulary import MAX_ID, Id, Priority, TicketState, TicketType
from maintenance.work_orders import queries, service
from maintenance.work_orders.lifecycle import allowed_actions
from maintenance.work_orders.models import Ticket
from maintenance.work_orders.schemas import (
    CommentCreate,
    CommentRead,
    EventRead,
    RatingCreate,
    TicketCreate,
    TicketRead,
    TransitionRequest,
)

router = APIRouter(tags=["work orders"])

CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "transition not allowed (current state and allowed actions), "
        "or the ticket changed concurrently"
    }
}
MISSING: dict[int | str, dict[str, Any]] = {404: {"description": "unknown id"}}


class TicketPage(BaseModel):
    items: list[TicketRead]
    total: int
    limit: int
    offset: int


class AttachmentRead(BaseModel):
    id: int
    sha256: str
    filename: str
    content_type: str
    size: int


ALLOWED = {state.value: [a.value for a in allowed_actions(state)] for state in TicketState}


def visible(s: Session, ticket_id: int, principal: Principal) -> Ticket:
    """The ticket, if this caller may see it: a requester only their own (others are 404, so
    that ids of other people's requests reveal nothing)."""
    ticket = service.get(s, ticket_id)
    if principal.role == "requester" and ticket.requester != principal.name:
        raise NotFound("ticket", ticket_id)
    return ticket


def why_not_change(ticket: Ticket, principal: Principal, what: str) -> str | None:
    """Why this caller may not change the ticket, or None: requesters never, technicians only
    the tickets assigned to them (the console asks too, to show only buttons that work)."""
    if principal.role == "requester":
        return f"requesters cannot {what}"
    if principal.role == "technician" and ticket.assignee_id != principal.technician_id:
        return f"ticket {ticket.id} is not assigned to you"
    return None


def may_change(request: Request, ticket: Ticket, principal: Principal, what: str) -> None:
    why = why_not_change(ticket, principal, what)
    if why is not None:
        raise refuse(request, principal, why)


def read(ticket: Ticket) -> TicketRead:
    out = TicketRead.model_validate(ticket)
    out.allowed_actions = ALLOWED[ticket.state]
    return out


@router.post("/tickets", status_code=201, responses=MISSING)
def create_ticket(
    data: TicketCreate, intake: IntakeDep, now: NowDep, principal: PrincipalDep, actor: str = "api"
) -> TicketRead:
    """Registers a request from any channel; SLA due times and automatic dispatch follow.
    Requests that arrive together are committed together (group commit), each answered alone.
    A requester's request is filed under their own name."""
    if principal.role == "requester":
        data = data.model_copy(update={"requester": principal.name})
    return read(intake.create(data, actor=audit_name(principal, actor), now=now))


class TicketBatch(BaseModel):
    items: list[TicketCreate] = Field(min_length=1, max_length=1000)


@router.post(
    "/tickets/batch",
    status_code=201,
    responses=MISSING,
    dependencies=[Depends(access(CONTROL_ROOM, CONTROL_ROOM))],
)
def create_tickets(
    batch: TicketBatch,
    db: DatabaseDep,
    now: NowDep,
    notifier: NotifierDep,
    principal: PrincipalDep,
    actor: str = "api",
) -> list[TicketRead]:
    """Registers up to 1,000 tickets in one transaction (integrations, bulk intake); any invalid
    item refuses the batch, its 422 naming the item (`body.items.3.asset_id`)."""
    who = audit_name(principal, actor)
    with db.transaction() as s:
        return [
            read(t)
            for t in service.create_many(s, batch.items, actor=who, now=now, notifier=notifier)
        ]


@router.get("/tickets", response_model=TicketPage)
async def list_tickets(
    db: DatabaseDep,
    now: NowDep,
    principal: PrincipalDep,
    site_id: Id | None = None,
    state: TicketState | None = None,
    type: TicketType | None = None,
    priority: Priority | None = None,
    asset_id: Id | None = None,
    assignee_id: Id | None = None,
    sla: Annotated[queries.SlaStatus | None, Query(description="breached|at_risk|on_track")] = None,
    escalated: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Response:
    """Newest first. The ticket board's query: rows go straight from the database to JSON (the
    response model documents them) because this is the most frequent call of the console."""
    mine = principal.name if principal.role == "requester" else None
    f = queries.TicketFilter(
        site_id, state, type, priority, asset_id, assignee_id, sla, escalated, mine
    )
    page = None
    if db.has_driver_reads:
        # One indexed, LIMITed statement with a 2 s ceiling, run right here: a hop to the
        # thread pool would cost more than the query itself.
        page = db.driver_read(
            lambda c: queries.board_rows_postgres(c, f, limit=limit, offset=offset)
        )
    if page is None:
        page = await run_in_threadpool(_list_rows, db, f, now, limit, offset)
    rows, total = page
    for row in rows:
        row["allowed_actions"] = ALLOWED[row["state"]]
    body = {"items": rows, "total": total, "limit": limit, "offset": offset}
    return Response(orjson.dumps(body, option=orjson.OPT_UTC_Z), media_type="application/json")


def _list_rows(
    db: Database, f: queries.TicketFilter, now: datetime, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    with db.read() as s:
        return queries.list_rows(s, f, now=now, limit=limit, offset=offset)


@router.get("/tickets/{ticket_id}", responses=MISSING)
def read_ticket(ticket_id: Id, db: DatabaseDep, principal: PrincipalDep) -> TicketRead:
    with db.transaction() as s:
        return read(visible(s, ticket_id, principal))


@router.post("/tickets/{ticket_id}/transitions", responses={**MISSING, **CONFLICT})
def transition(
    ticket_id: Id,
    body: TransitionRequest,
    request: Request,
    db: DatabaseDep,
    now: NowDep,
    notifier: NotifierDep,
    principal: PrincipalDep,
) -> TicketRead:
    """assign, accept, start, resolve, verify, reject, close, reopen, cancel, escalate.
    A technician acts only on tickets assigned to them; requesters rate and comment instead."""
    body = body.model_copy(update={"actor": audit_name(principal, body.actor)})
    with db.transaction() as s:
        may_change(request, service.get(s, ticket_id), principal, "move tickets")
        return read(service.transition(s, ticket_id, body, now=now, notifier=notifier))


@router.post("/tickets/{ticket_id}/comments", status_code=201, responses=MISSING)
def comment(
    ticket_id: Id, data: CommentCreate, db: DatabaseDep, now: NowDep, principal: PrincipalDep
) -> CommentRead:
    """kind: comment, progress (complex complaints), feedback (to the requester), return_visit."""
    data = data.model_copy(update={"author": audit_name(principal, data.author)})
    with db.transaction() as s:
        visible(s, ticket_id, principal)
        return CommentRead.model_validate(service.comment(s, ticket_id, data, now=now))


@router.get("/tickets/{ticket_id}/comments", responses=MISSING)
def comments(ticket_id: Id, db: DatabaseDep, principal: PrincipalDep) -> list[CommentRead]:
    with db.transaction() as s:
        visible(s, ticket_id, principal)
        return [CommentRead.model_validate(c) for c in queries.comments(s, ticket_id)]


@router.post("/tickets/{ticket_id}/rating", responses={**MISSING, **CONFLICT})
def rate(
    ticket_id: Id,
    data: RatingCreate,
    request: Request,
    db: DatabaseDep,
    now: NowDep,
    notifier: NotifierDep,
    principal: PrincipalDep,
) -> TicketRead:
    """Satisfaction 1-5 after resolution (the requester, or staff taking a survey; not the
    technician who did the work); at or below the threshold (default 2, setting
    FACILITY_SATISFACTION_REOPEN_AT_OR_BELOW) the work reopens for rectification."""
    threshold: int = request.app.state.satisfaction_reopen_at_or_below
    if principal.role == "technician":
        raise refuse(request, principal, "technicians do not rate work")
    data = data.model_copy(update={"actor": audit_name(principal, data.actor)})
    with db.transaction() as s:
        visible(s, ticket_id, principal)
        return read(
            service.rate(
                s, ticket_id, data, now=now, notifier=notifier, reopen_at_or_below=threshold
            )
        )


@router.get("/tickets/{ticket_id}/audit", responses=MISSING)
def audit(ticket_id: Id, db: DatabaseDep, principal: PrincipalDep) -> list[EventRead]:
    with db.transaction() as s:
        visible(s, ticket_id, principal)
        return [EventRead.model_validate(e) for e in queries.audit_trail(s, ticket_id)]


@router.post("/tickets/{ticket_id}/attachments", status_code=201, responses=MISSING)
async def attach(
    ticket_id: Id,
    file: UploadFile,
    db: DatabaseDep,
    now: NowDep,
    store: AttachmentsDep,
    principal: PrincipalDep,
    actor: Annotated[str, Form()] = "api",
) -> AttachmentRead:
    """A photo (JPEG, PNG, WebP) or an acceptance form (PDF), at most 10 MiB."""
    data = await file.read(store.max_bytes + 1)
    who = audit_name(principal, actor)
    with db.transaction() as s:
        visible(s, ticket_id, principal)
        a = store.add(s, ticket_id, file.filename or "upload", data, actor=who, now=now)
        return AttachmentRead(
            id=a.id, sha256=a.sha256, filename=a.filename, content_type=a.content_type, size=a.size
        )


@router.get("/attachments/{attachment_id}", response_class=Response, responses=MISSING)
def attachment(
    attachment_id: Id, db: DatabaseDep, store: AttachmentsDep, principal: PrincipalDep
) -> Response:
    with db.transaction() as s:
        a, data = store.read(s, attachment_id)
        visible(s, a.ticket_id, principal)
    return Response(
        data,
        media_type=a.content_type,
        headers={"Content-Disposition": download(a.filename)},
    )

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
from maintenance.alarms import findings
from maintenance.dispatch import roster
from maintenance.errors import NotFound
from maintenance.flows import intake, transitions
from maintenance.storage.db import Database
from maintenance.vocabulary import MAX_ID, Id, Priority, TicketState, TicketType
from maintenance.work_orders import disclosure, permissions, queries, service
from maintenance.work_orders.lifecycle import Action, allowed_actions
from maintenance.work_orders.models import Ticket
from maintenance.work_orders.schemas import (
    CommentCreate,
    CommentRead,
    EventRead,
    RatingCreate,
    TicketRead,
    TicketRequest,
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
    """The ticket, if this caller may see it (`queries.visible`: their scope, a requester's
    own; anything else is 404, so that ids reveal nothing)."""
    return queries.visible(s, ticket_id, principal)


def may_touch(request: Request, ticket: Ticket, principal: Principal, what: str) -> None:
    """Comments, attachments, checklists: see `permissions.why_not_touch`."""
    why = permissions.why_not_touch(principal, ticket, what)
    if why is not None:
        raise refuse(request, principal, why)


def read(ticket: Ticket, principal: Principal) -> TicketRead:
    out = TicketRead.model_validate(ticket)
    out.allowed_actions = ALLOWED[ticket.state]
    return out.model_copy(update=disclosure.redactions(principal))


@router.post("/tickets", status_code=201, responses=MISSING)
def create_ticket(
    data: TicketRequest,
    intake: IntakeDep,
    db: DatabaseDep,
    now: NowDep,
    principal: PrincipalDep,
    actor: str = "api",
) -> TicketRead:
    """Registers a request from any channel; SLA due times and automatic dispatch follow.
    Requests that arrive together are committed together (group commit), each answered alone.
    A requester's request is filed in their own name through the app; fields a caller may not
    set are a 422 on the field (docs/work-orders.md, who may do what)."""
    ticket = permissions.admit(principal, data, now=now)
    if not principal.scope.everything:
        with db.read() as s:
            queries.referenced(s, principal.scope, data)
    return read(intake.create(ticket, actor=audit_name(principal, actor), now=now), principal)


class TicketBatch(BaseModel):
    items: list[TicketRequest] = Field(min_length=1, max_length=1000)


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
    items = [
        permissions.admit(principal, item, now=now, where=f"{i}.")
        for i, item in enumerate(batch.items)
    ]
    with db.transaction() as s:
        for item in batch.items:
            queries.referenced(s, principal.scope, item)
        return [
            read(t, principal)
            for t in intake.create_many(s, items, actor=who, now=now, notifier=notifier)
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
        site_id,
        state,
        type,
        priority,
        asset_id,
        assignee_id,
        sla,
        escalated,
        mine,
        scope=principal.scope,
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
        disclosure.ticket_row(principal, row)
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
        return read(visible(s, ticket_id, principal), principal)


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
    """assign, accept, start, resolve, confirm, verify, reject, close, reopen, cancel,
    escalate; who may take which is in `maintenance.work_orders.permissions` (a technician acts
    only on tickets assigned to them, a requester confirms, rejects or withdraws their own; the
    quality check is by someone who did not do the work, who is the inspector)."""
    permissions.check_transition_fields(body)
    update: dict[str, Any] = {"actor": audit_name(principal, body.actor)}
    if body.action == Action.verify and principal.via != "api_key":
        update["inspector"] = principal.name  # a person checks as themselves
    body = body.model_copy(update=update)
    with db.transaction() as s:
        ticket = visible(s, ticket_id, principal)
        if body.action == Action.assign and body.technician_id is not None:
            # a technician outside the caller's scope is, for them, not there
            roster.visible_technician(s, body.technician_id, scope=principal.scope)
        did = queries.did_the_work(s, ticket) if body.action == Action.verify else set()
        why = permissions.why_not_act(principal, ticket, str(body.action), did_the_work=did)
        if why is not None:
            raise refuse(request, principal, why)
        moved = transitions.transition(s, ticket_id, body, now=now, notifier=notifier)
        if body.action in (Action.resolve, Action.reject, Action.reopen) and moved.fault:
            findings.review(s, moved, now=now, by=body.actor)  # what the models learn from
        return read(moved, principal)


@router.post("/tickets/{ticket_id}/comments", status_code=201, responses=MISSING)
def comment(
    ticket_id: Id,
    data: CommentCreate,
    request: Request,
    db: DatabaseDep,
    now: NowDep,
    principal: PrincipalDep,
) -> CommentRead:
    """kind: comment, progress (complex complaints), feedback (to the requester), return_visit;
    requesters write comments on their own requests, technicians on the tickets assigned to
    them."""
    data = data.model_copy(update={"author": audit_name(principal, data.author)})
    with db.transaction() as s:
        ticket = visible(s, ticket_id, principal)
        why = permissions.why_not_comment(principal, ticket, data.kind)
        if why is not None:
            raise refuse(request, principal, why)
        return CommentRead.model_validate(service.comment(s, ticket_id, data, now=now))


@router.get("/tickets/{ticket_id}/comments", responses=MISSING)
def comments(ticket_id: Id, db: DatabaseDep, principal: PrincipalDep) -> list[CommentRead]:
    with db.transaction() as s:
        visible(s, ticket_id, principal)
        found = disclosure.comments(principal, queries.comments(s, ticket_id))
        return [CommentRead.model_validate(c) for c in found]


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
    data = data.model_copy(update={"actor": audit_name(principal, data.actor)})
    with db.transaction() as s:
        why = permissions.why_not_rate(principal, visible(s, ticket_id, principal))
        if why is not None:
            raise refuse(request, principal, why)
        rated = service.rate(
            s, ticket_id, data, now=now, notifier=notifier, reopen_at_or_below=threshold
        )
        if rated.state is TicketState.reopened and rated.fault:
            findings.review(s, rated, now=now, by=data.actor)  # withdrawn: judged again later
        return read(rated, principal)


@router.get("/tickets/{ticket_id}/audit", responses=MISSING)
def audit(ticket_id: Id, db: DatabaseDep, principal: PrincipalDep) -> list[EventRead]:
    with db.transaction() as s:
        visible(s, ticket_id, principal)
        events = disclosure.trail(principal, queries.audit_trail(s, ticket_id))
        return [EventRead.model_validate(e) for e in events]


@router.post("/tickets/{ticket_id}/attachments", status_code=201, responses=MISSING)
async def attach(
    ticket_id: Id,
    file: UploadFile,
    request: Request,
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
        may_touch(request, visible(s, ticket_id, principal), principal, "attach files")
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
        try:
            visible(s, a.ticket_id, principal)
        except NotFound:  # the same answer as for an id that does not exist
            raise NotFound("attachment", attachment_id) from None
    return Response(
        data,
        media_type=a.content_type,
        headers={"Content-Disposition": download(a.filename)},
    )

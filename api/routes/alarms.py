"""Alarms for engineering staff: the standing list, acknowledge, shelve, history, floods,
maintenance windows, the live feed (server-sent events) and the rules in force."""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel

from api.auth import Credentials, Principal, PrincipalDep, audit_name
from api.deps import AlarmsDep, DatabaseDep
from maintenance.alarms import queries
from maintenance.alarms.lifecycle import AlarmState
from maintenance.alarms.models import MaintenanceWindow
from maintenance.alarms.publication import AlarmStream, as_json
from maintenance.alarms.schemas import (
    Acknowledge,
    AlarmPage,
    AlarmRead,
    AlarmTransitionRead,
    FloodRead,
    MaintenanceWindowCreate,
    MaintenanceWindowRead,
    Reset,
    Shelve,
    Unshelve,
)
from maintenance.alarms.tickets import ticket_alarms
from maintenance.alarms.transitions import AlarmTransition
from maintenance.assets.service import visible_asset
from maintenance.vocabulary import MAX_ID, Id
from maintenance.work_orders import queries as ticket_queries

router = APIRouter(tags=["alarms"])
MISSING: dict[int | str, dict[str, Any]] = {404: {"description": "unknown id"}}
REFUSED: dict[int | str, dict[str, Any]] = {
    **MISSING,
    409: {"description": "not allowed in the alarm's state (state and allowed actions)"},
}


@router.get("/alarms")
def list_alarms(
    db: DatabaseDep,
    principal: PrincipalDep,
    site: str | None = None,
    system: str | None = None,
    device_id: str | None = None,
    rule_id: str | None = None,
    asset_id: Id | None = None,
    state: AlarmState | None = None,
    severity: str | None = None,
    standing: Annotated[bool | None, Query(description="not yet normal and acknowledged")] = None,
    shelved: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> AlarmPage:
    """Most severe first, newest raise first within a severity; the caller's scope only."""
    with db.read() as s:
        rows, total = queries.list_alarms(
            s,
            scope=principal.scope,
            site=site,
            system=system,
            device_id=device_id,
            rule_id=rule_id,
            asset_id=asset_id,
            state=state,
            severity=severity,
            standing=standing,
            shelved=shelved,
            limit=limit,
            offset=offset,
        )
        items = [AlarmRead.model_validate(a) for a in rows]
    return AlarmPage(items=items, total=total, limit=limit, offset=offset)


# How often an open live feed checks that its caller's session or key still holds.
LIVE_RECHECK_S = 1.0


@router.get("/alarms/live")
async def live(request: Request, principal: PrincipalDep) -> StreamingResponse:
    """Alarm transitions as they are committed, as server-sent events (`event: alarm`), of the
    caller's scope only (sites, a contractor's assets): each subscriber's stream is filtered
    for them. The stream ends within a second of its caller's logout, disabled account or
    revoked key (`event: ended`) or when the token it was opened with expires
    (`event: expired`: a client opens it again with its renewed token), and follows a change
    of their scope within a second."""
    stream: AlarmStream = request.app.state.alarm_stream
    credentials: Credentials = request.app.state.credentials
    subscriber = stream.subscribe()

    async def events() -> AsyncIterator[bytes]:
        checked = time.monotonic()
        scope = principal.scope
        try:
            yield b": connected\n\n"
            while not await request.is_disconnected():
                if time.monotonic() - checked >= LIVE_RECHECK_S:
                    if not await asyncio.to_thread(credentials.still_live, principal):
                        yield b"event: ended\ndata: {}\n\n"
                        return
                    expires = principal.token_expires_at
                    if expires is not None and datetime.now(UTC) >= expires:
                        yield b"event: expired\ndata: {}\n\n"  # open again, renewed
                        return
                    scope = await asyncio.to_thread(credentials.scope_of, principal)
                    checked = time.monotonic()
                try:
                    item: AlarmTransition = await asyncio.to_thread(subscriber.get, True, 1.0)
                except queue.Empty:
                    yield b": keep-alive\n\n"
                    continue
                if scope.admits_code(item.site, item.asset_id):
                    yield b"event: alarm\ndata: " + orjson.dumps(as_json(item)) + b"\n\n"
        finally:
            stream.unsubscribe(subscriber)

    return StreamingResponse(events(), media_type="text/event-stream")


@router.get("/alarms/{alarm_id}", responses=MISSING)
def get_alarm(alarm_id: Id, db: DatabaseDep, principal: PrincipalDep) -> AlarmRead:
    return _current(db, alarm_id, principal)


@router.get("/alarms/{alarm_id}/events", responses=MISSING)
def alarm_trail(
    alarm_id: Id, db: DatabaseDep, principal: PrincipalDep
) -> list[AlarmTransitionRead]:
    """Every transition of the alarm with who, when, from -> to and the values behind it."""
    with db.read() as s:
        queries.visible(s, alarm_id, scope=principal.scope)
        return [
            AlarmTransitionRead.model_validate(e)
            for e in queries.alarm_events(s, scope=principal.scope, alarm_id=alarm_id)
        ]


def _current(db: DatabaseDep, alarm_id: int, principal: Principal) -> AlarmRead:
    """The alarm as it is now, if the caller sees it (404 otherwise: ask before acting)."""
    with db.read() as s:
        return AlarmRead.model_validate(queries.visible(s, alarm_id, scope=principal.scope))


@router.post("/alarms/{alarm_id}/acknowledge", responses=REFUSED)
def acknowledge(
    alarm_id: Id, body: Acknowledge, db: DatabaseDep, alarms: AlarmsDep, principal: PrincipalDep
) -> AlarmRead:
    _current(db, alarm_id, principal)
    alarms.acknowledge(alarm_id, by=audit_name(principal, body.actor), note=body.note)
    return _current(db, alarm_id, principal)


@router.post("/alarms/{alarm_id}/reset", responses=REFUSED)
def reset(
    alarm_id: Id, body: Reset, db: DatabaseDep, alarms: AlarmsDep, principal: PrincipalDep
) -> AlarmRead:
    """Returns a latched event alarm to normal (its device never sends a clear: a tripped breaker
    closed again), with a reason recorded in the alarm's trail; 422 for an alarm that clears by
    itself, 409 for one that is not active."""
    _current(db, alarm_id, principal)
    alarms.reset(alarm_id, by=audit_name(principal, body.actor), reason=body.reason)
    return _current(db, alarm_id, principal)


@router.post("/alarms/{alarm_id}/shelve", responses=MISSING)
def shelve(
    alarm_id: Id, body: Shelve, db: DatabaseDep, alarms: AlarmsDep, principal: PrincipalDep
) -> AlarmRead:
    """Hides the alarm from the standing list's attention for a limited time, with a reason;
    it is still recorded, and comes back by itself when the time is up."""
    _current(db, alarm_id, principal)
    by = audit_name(principal, body.actor)
    alarms.shelve(alarm_id, by=by, reason=body.reason, minutes=body.minutes)
    return _current(db, alarm_id, principal)


@router.post("/alarms/{alarm_id}/unshelve", responses=MISSING)
def unshelve(
    alarm_id: Id, body: Unshelve, db: DatabaseDep, alarms: AlarmsDep, principal: PrincipalDep
) -> AlarmRead:
    _current(db, alarm_id, principal)
    alarms.unshelve(alarm_id, by=audit_name(principal, body.actor))
    return _current(db, alarm_id, principal)


class OpenedTicket(BaseModel):
    ticket_id: Id


@router.post("/alarms/{alarm_id}/ticket", responses=MISSING)
def open_ticket(
    alarm_id: Id, db: DatabaseDep, alarms: AlarmsDep, principal: PrincipalDep
) -> OpenedTicket:
    """Opens a work order for the alarm (one below the automatic severity, say); the fault's
    open ticket if it has one."""
    _current(db, alarm_id, principal)
    return OpenedTicket(ticket_id=alarms.open_ticket(alarm_id, by=audit_name(principal, None)))


@router.get("/alarm-events")
def alarm_history(
    db: DatabaseDep,
    principal: PrincipalDep,
    site: str | None = None,
    action: str | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[AlarmTransitionRead]:
    """Alarm history, oldest first: the input of failure statistics."""
    with db.read() as s:
        rows = queries.alarm_events(
            s,
            scope=principal.scope,
            site=site,
            action=action,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )
        return [AlarmTransitionRead.model_validate(e) for e in rows]


@router.get("/alarm-floods")
def list_floods(
    db: DatabaseDep, principal: PrincipalDep, site: str | None = None, active: bool | None = None
) -> list[FloodRead]:
    with db.read() as s:
        found = queries.floods(s, scope=principal.scope, site=site, active=active)
        return [FloodRead.model_validate(f) for f in found]


@router.post("/maintenance-windows", status_code=201, responses=MISSING)
def create_window(
    body: MaintenanceWindowCreate, db: DatabaseDep, principal: PrincipalDep
) -> MaintenanceWindowRead:
    """Planned work: the asset's alarms in the window are recorded as suppressed (never the
    life-safety ones). `created_by` is the caller (an integration's key may name a person)."""
    with db.transaction() as s:
        visible_asset(s, body.asset_id, scope=principal.scope)
        window = MaintenanceWindow(
            **body.model_dump(exclude={"created_by"}),
            created_by=audit_name(principal, body.created_by or None),
        )
        s.add(window)
        s.flush()
        return MaintenanceWindowRead.model_validate(window)


@router.get("/maintenance-windows")
def list_windows(
    db: DatabaseDep, principal: PrincipalDep, asset_id: Id | None = None
) -> list[MaintenanceWindowRead]:
    with db.read() as s:
        return [
            MaintenanceWindowRead.model_validate(w)
            for w in queries.maintenance_windows(s, scope=principal.scope, asset_id=asset_id)
        ]


@router.get("/tickets/{ticket_id}/alarms", responses=MISSING, tags=["work orders"])
def alarms_of_ticket(ticket_id: Id, db: DatabaseDep, principal: PrincipalDep) -> list[AlarmRead]:
    """The alarms behind an alarm ticket; `state` shows whether each returned to normal."""
    with db.read() as s:
        ticket_queries.visible(s, ticket_id, principal)
        return [AlarmRead.model_validate(a) for a in ticket_alarms(s, ticket_id)]


@router.get("/rules")
def rules_in_force(alarms: AlarmsDep) -> dict[str, Any]:
    """The rules being evaluated, and the last reload error (the previous rules stay active)."""
    error = alarms.rule_error
    return {
        "rules": [r.model_dump(mode="json") for r in alarms.engine.rules],
        "files": [str(p) for p in alarms.rule_files.paths] if alarms.rule_files else [],
        "reload_error": str(error) if error else None,
    }

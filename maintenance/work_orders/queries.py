"""Read side of work orders: filtered, paginated lists, an asset's history, the audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Literal

from sqlalchemy import Select, and_, case, func, or_, select, true
from sqlalchemy.orm import Session

from maintenance.accounts.models import User
from maintenance.assets.models import Asset, Location
from maintenance.errors import NotFound
from maintenance.scope import Scope
from maintenance.storage.crypto import cipher
from maintenance.vocabulary import OPEN_STATES, Priority, TicketState, TicketType
from maintenance.work_orders.models import Comment, Ticket, TicketEvent
from maintenance.work_orders.permissions import Caller, owns
from maintenance.work_orders.schemas import TicketRequest

SlaStatus = Literal["breached", "at_risk", "on_track"]


@dataclass(frozen=True, slots=True)
class TicketFilter:
    site_id: int | None = None
    state: TicketState | None = None
    type: TicketType | None = None
    priority: Priority | None = None
    asset_id: int | None = None
    assignee_id: int | None = None
    sla: SlaStatus | None = None
    escalated: bool | None = None
    requester: str | None = None  # a requester sees only their own
    # The caller's sites and assets: no default, so no list can forget it.
    scope: Scope = field(kw_only=True)


# What the board shows: every column but the blind index of the requester (internal).
TICKET_COLUMNS = tuple(c.name for c in Ticket.__table__.columns if c.name != "requester_index")


def equalities(f: TicketFilter) -> dict[str, Any]:
    """The filter's `column = value` conditions, by column name (the requester by its blind
    index): shared by the ORM query and the board's driver-level statement."""
    wanted = {
        "site_id": f.site_id,
        "state": f.state,
        "type": f.type,
        "priority": f.priority,
        "asset_id": f.asset_id,
        "assignee_id": f.assignee_id,
        "escalated": f.escalated,
        "requester_index": cipher().index(f.requester) if f.requester else None,
    }
    return {name: value for name, value in wanted.items() if value is not None}


def _filtered(f: TicketFilter, now: datetime) -> Select[Ticket]:
    q = select(Ticket)
    if not f.scope.everything:
        q = q.where(f.scope.where(Ticket.site_id, Ticket.asset_id))
    for name, value in equalities(f).items():
        q = q.where(Ticket.__table__.c[name] == value)
    breached = or_(
        Ticket.response_breached_at.is_not(None), Ticket.resolution_breached_at.is_not(None)
    )
    if f.sla == "breached":
        q = q.where(breached)
    elif f.sla is not None:
        # at risk: open, not yet breached, and a due time within the next hour
        soon = now.timestamp() + 3600
        late = or_(
            and_(Ticket.responded_at.is_(None), Ticket.response_due <= _at(soon)),
            Ticket.resolution_due <= _at(soon),
        )
        open_unbreached = and_(Ticket.state.in_(OPEN_STATES), ~breached)
        q = q.where(open_unbreached, late if f.sla == "at_risk" else ~late)
    return q


def _at(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def list_tickets(
    session: Session,
    f: TicketFilter,
    *,
    now: datetime,
    limit: int = 50,
    offset: int = 0,
    with_total: bool = True,
) -> tuple[list[Ticket], int | None]:
    q = _filtered(f, now)
    items = list(
        session.scalars(
            q.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit).offset(offset)
        )
    )
    total = None
    if with_total:
        total = int(session.scalar(select(func.count()).select_from(q.subquery())) or 0)
    return items, total


def list_rows(
    session: Session, f: TicketFilter, *, now: datetime, limit: int = 50, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """list_tickets for the API's hot path: plain rows, and the total counted by a window
    function in the same statement (a second query only for a page past the end)."""
    q = _filtered(f, now)
    where = q.whereclause if q.whereclause is not None else true()
    page = (
        select(
            *(Ticket.__table__.c[n] for n in TICKET_COLUMNS), func.count().over().label("_total")
        )
        .where(where)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = [dict(r) for r in session.execute(page).mappings()]
    if rows:
        total = int(rows[0]["_total"])
        for row in rows:
            del row["_total"]
    else:
        total = int(session.scalar(select(func.count()).select_from(q.subquery())) or 0)
    return rows, total


_BOARD_SQL: dict[tuple[str, ...], str] = {}


def board_rows_postgres(
    connection: Any, f: TicketFilter, *, limit: int = 50, offset: int = 0
) -> tuple[list[dict[str, Any]], int] | None:
    """list_rows on PostgreSQL without the ORM/Core row path: the console's most frequent call,
    on a psycopg connection (`Database.driver_read`).

    psycopg already answers what JSON needs (tz-aware UTC datetimes, strings, parsed JSON), so
    the rows go to the caller as they come. Covers the equality filters; None for the others
    (an SLA status), which take list_rows."""
    if f.sla is not None:
        return None
    wanted = equalities(f)
    within = {
        name: sorted(allowed)
        for name, allowed in (("site_id", f.scope.site_ids), ("asset_id", f.scope.asset_ids))
        if allowed is not None
    }
    names = (*wanted, *(f"{name} in" for name in within))
    sql = _BOARD_SQL.get(names)
    if sql is None:
        conditions = [f"{name} = %s" for name in wanted] + [f"{n} = ANY(%s)" for n in within]
        where = " AND ".join(conditions) or "TRUE"
        sql = _BOARD_SQL[names] = (
            f"SELECT {', '.join(TICKET_COLUMNS)}, count(*) OVER () FROM tickets WHERE {where} "
            "ORDER BY created_at DESC, id DESC LIMIT %s OFFSET %s"
        )
    params = [p.value if isinstance(p, Enum) else p for p in wanted.values()]
    params += [*within.values(), limit, offset]
    rows = connection.execute(sql, params).fetchall()
    if not rows:
        if offset == 0:
            return [], 0
        return None  # past the end: list_rows counts separately
    total = int(rows[0][-1])
    out = [dict(zip(TICKET_COLUMNS, row[:-1], strict=True)) for row in rows]
    decrypt = cipher().decrypt
    for row in out:
        if row["requester"]:
            row["requester"] = decrypt(row["requester"])
    return out, total


def visible(session: Session, ticket_id: int, caller: Caller) -> Ticket:
    """The ticket, if this caller may see it: inside their scope (sites, a contractor's
    assets), and for a requester only their own. Anything else is "not found", so that ids
    outside reveal nothing."""
    ticket = session.get(Ticket, ticket_id)
    if (
        ticket is None
        or not caller.scope.admits(ticket.site_id, ticket.asset_id)
        or (caller.role == "requester" and not owns(caller, ticket))
    ):
        raise NotFound("ticket", ticket_id)
    return ticket


def referenced(session: Session, scope: Scope, data: TicketRequest) -> None:
    """The asset, location and parent ticket a request names, if outside the caller's scope,
    are not there (404), rather than "on another site", which would tell that they exist."""
    if scope.everything:
        return
    if data.asset_id is not None:
        site = session.scalar(select(Asset.site_id).where(Asset.id == data.asset_id))
        if site is not None and not scope.admits(site, data.asset_id):
            raise NotFound("asset", data.asset_id)
    if data.location_id is not None:
        site = session.scalar(select(Location.site_id).where(Location.id == data.location_id))
        if site is not None and not scope.admits_site(site):
            raise NotFound("location", data.location_id)
    if data.parent_ticket_id is not None:
        parent = session.get(Ticket, data.parent_ticket_id)
        if parent is not None and not scope.admits(parent.site_id, parent.asset_id):
            raise NotFound("ticket", data.parent_ticket_id)


def asset_history(
    session: Session, asset_id: int, *, scope: Scope, limit: int = 100, offset: int = 0
) -> list[Ticket]:
    return list(
        session.scalars(
            select(Ticket)
            .where(Ticket.asset_id == asset_id, scope.where(Ticket.site_id, Ticket.asset_id))
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )


def audit_trail(session: Session, ticket_id: int) -> list[TicketEvent]:
    return list(
        session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        )
    )


def comments(session: Session, ticket_id: int) -> list[Comment]:
    return list(
        session.scalars(select(Comment).where(Comment.ticket_id == ticket_id).order_by(Comment.id))
    )


def did_the_work(session: Session, ticket: Ticket) -> set[str]:
    """Who did the work on the ticket (started or resolved it, or is assigned to it): the
    people whose second check would not be a second one."""
    names = set(
        session.scalars(
            select(TicketEvent.actor).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.action.in_(("start", "resolve"))
            )
        )
    )
    if ticket.assignee_id is not None:
        names.update(
            session.scalars(select(User.username).where(User.technician_id == ticket.assignee_id))
        )
    return names


# -- urgency: what to do first ---------------------------------------------------------------


def next_due(ticket: Ticket) -> datetime | None:
    """The due time of the ticket's next step: the response until someone responded, then the
    resolution."""
    if ticket.responded_at is None and ticket.response_due is not None:
        return ticket.response_due
    return ticket.resolution_due


def urgency(ticket: Ticket) -> tuple[int, bool, datetime]:
    """Most urgent first: emergencies before the rest, then the nearest due next step (an
    emergency due in 12 minutes above routine inspections due tomorrow)."""
    due = next_due(ticket)
    return (Priority(ticket.priority).rank, due is None, due or datetime.max.replace(tzinfo=UTC))


def urgency_order() -> tuple[Any, ...]:
    """`urgency` as ORDER BY terms, for the board's columns."""
    rank = case(*((Ticket.priority == p.value, p.rank) for p in Priority), else_=len(Priority))
    due = case(
        (
            and_(Ticket.responded_at.is_(None), Ticket.response_due.is_not(None)),
            Ticket.response_due,
        ),
        else_=Ticket.resolution_due,
    )
    return (rank, due.is_(None), due, Ticket.id)

"""The breach watch: finds SLA breaches and near-breaches of open tickets and acts on them.

A breach is recorded once (SlaBreach row and the ticket's *_breached_at), escalates the ticket to
the supervisor, raises its priority one step and notifies; a near-breach (less than
`near_share` of the window left) only notifies, once. Breaches are never recomputed away: a later
change of due times or policies leaves recorded breaches as they are.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from maintenance.flows.escalation import escalate, supervisor_for
from maintenance.language import phrases
from maintenance.notifications.notifier import Notification, Notifier
from maintenance.sla.models import SlaBreach
from maintenance.vocabulary import OPEN_STATES, TicketState
from maintenance.work_orders import service
from maintenance.work_orders.models import Ticket

UNRESOLVED = OPEN_STATES


MAX_RECORDS_PER_RUN = 1000
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WatchResult:
    breaches: int
    near_breaches: int


def _due(ticket: Ticket, kind: str) -> datetime | None:
    due: datetime | None = getattr(ticket, f"{kind}_due")
    return due


def check(
    session: Session,
    *,
    now: datetime,
    notifier: Notifier,
    near_share: float = 0.2,
    max_records: int = MAX_RECORDS_PER_RUN,
) -> WatchResult:
    """Records (and escalates) what is overdue or near, at most `max_records` a run: a backlog
    (a service down for a day, a big import) drains over the next runs instead of holding one
    transaction, and the scheduler's stop, for minutes."""
    breaches = near = 0
    watched = (
        Ticket.state.in_(UNRESOLVED),
        or_(
            and_(Ticket.responded_at.is_(None), Ticket.response_due.is_not(None)),
            Ticket.resolution_due.is_not(None),
            Ticket.progress_due.is_not(None),
        ),
    )
    # The longest overdue first: a run that stops at its bound leaves the freshest for later.
    first_due = func.coalesce(Ticket.response_due, Ticket.resolution_due, Ticket.progress_due)
    candidates = session.scalars(select(Ticket).where(*watched).order_by(first_due)).all()
    # The breaches already recorded for those tickets, by a subquery: a list of ids as
    # parameters stops at the driver's 65,535 (a site with 100,000 open tickets).
    recorded = {
        (b.ticket_id, b.kind, b.due)
        for b in session.scalars(
            select(SlaBreach).where(SlaBreach.ticket_id.in_(select(Ticket.id).where(*watched)))
        )
    }
    for ticket in candidates:
        if breaches + near >= max_records:
            log.info("SLA watch: %d recorded this run, the rest on the next", breaches + near)
            break
        for kind in ("response", "resolution", "progress"):
            due = _due(ticket, kind)
            if due is None or (kind == "response" and ticket.responded_at is not None):
                continue
            if due <= now:
                if (ticket.id, kind, due) in recorded:
                    continue
                _breach(session, ticket, kind, due, now, notifier)
                breaches += 1
            elif (ticket.id, f"near_{kind}", due) not in recorded:
                window = due - ticket.created_at
                if window.total_seconds() > 0 and due - now <= window * near_share:
                    _near(session, ticket, kind, due, now, notifier)
                    near += 1
    return WatchResult(breaches, near)


def _near(
    session: Session, ticket: Ticket, kind: str, due: datetime, now: datetime, notifier: Notifier
) -> None:
    session.add(SlaBreach(ticket_id=ticket.id, kind=f"near_{kind}", due=due, detected_at=now))
    notifier.notify(
        Notification(
            "sla_near_breach",
            supervisor_for(session, ticket),
            ticket.id,
            f"{kind} due {due.isoformat()} is near",
            facts={"sla": kind, "due": due.isoformat()},
        )
    )


def _breach(
    session: Session, ticket: Ticket, kind: str, due: datetime, now: datetime, notifier: Notifier
) -> None:
    session.add(SlaBreach(ticket_id=ticket.id, kind=kind, due=due, detected_at=now))
    if kind in ("response", "resolution") and getattr(ticket, f"{kind}_breached_at") is None:
        before = service.snapshot(ticket)
        setattr(ticket, f"{kind}_breached_at", now)
        service.record(
            session,
            ticket,
            before,
            actor="sla",
            action=f"breach:{kind}",
            now=now,
            note=phrases.SLA_WAS_DUE.write(clock=kind, due=due.isoformat()),
        )
    if ticket.state is not TicketState.cancelled:
        escalate(
            session,
            ticket,
            f"SLA breach: {kind} was due {due.isoformat()}",
            now=now,
            notifier=notifier,
            actor="sla",
            raise_priority=True,
        )
    notifier.notify(
        Notification(
            "sla_breach",
            supervisor_for(session, ticket),
            ticket.id,
            f"{kind} due {due.isoformat()} breached",
            facts={"sla": kind, "due": due.isoformat()},
        )
    )


def breaches(session: Session, ticket_id: int) -> list[SlaBreach]:
    return list(
        session.scalars(
            select(SlaBreach).where(SlaBreach.ticket_id == ticket_id).order_by(SlaBreach.id)
        )
    )

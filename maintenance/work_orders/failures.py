"""Which failure a work order records, decided when it is opened: its fault (the alarm rule of
an alarm ticket, which the alarm stage passes in; `repair` for a person's repair request) and
whether it repeats an earlier failure of the same asset and fault within REPEAT_WITHIN.
Recorded on the ticket, so failure statistics over a million tickets are one aggregate, not a
sort of every failure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from maintenance.vocabulary import TicketState, TicketType
from maintenance.work_orders.models import Ticket

FAILURE_TYPES = (TicketType.alarm, TicketType.repair)
# The fault of a person's repair request: a repeat is the same asset reported again; it names
# no cause, so the reports' top causes leave it out.
REPAIR_FAULT = "repair"
REPEAT_WITHIN = timedelta(days=30)


def fault_of(kind: TicketType) -> str | None:
    """The fault a failure records when its source names none: a person's repair request, or
    an alarm ticket whose creator did not say which rule (the alarm stage names it)."""
    if kind is TicketType.repair:
        return REPAIR_FAULT
    if kind is TicketType.alarm:
        return "alarm"
    return None


def classify(session: Session, tickets: Sequence[Ticket]) -> list[tuple[Ticket, Ticket]]:
    """Sets `fault` and, against the stored history, `repeat_of` on new tickets (before they
    are inserted). Returns (ticket, earlier ticket of the same batch) pairs: their ids exist
    only after the insert, when the caller links them with `link_repeats`.

    New tickets open at about the same time; one opened with an earlier time than the stored
    newest failure of its asset and fault (an alarm ticket opened late, dated by its raise) is
    recorded as no repeat."""
    failures = [t for t in tickets if t.type in FAILURE_TYPES and t.asset_id is not None]
    if not failures:
        return []
    for ticket in failures:
        ticket.fault = ticket.fault or fault_of(ticket.type)
    history: defaultdict[tuple[int | None, str | None], list[tuple[datetime, int | Ticket]]]
    history = defaultdict(list)
    # The newest stored failure of each (asset, fault) up to the newest new one: one row a
    # pair, however often the asset failed (an index range per pair).
    newest = (
        select(Ticket.asset_id, Ticket.fault, func.max(Ticket.created_at).label("at"))
        .where(
            Ticket.asset_id.in_({t.asset_id for t in failures}),
            Ticket.fault.in_({t.fault for t in failures}),
            Ticket.state != TicketState.cancelled,
            Ticket.created_at >= min(t.created_at for t in failures) - REPEAT_WITHIN,
            Ticket.created_at <= max(t.created_at for t in failures),
        )
        .group_by(Ticket.asset_id, Ticket.fault)
        .subquery()
    )
    rows = session.execute(
        select(Ticket.id, Ticket.asset_id, Ticket.fault, Ticket.created_at).join(
            newest,
            and_(
                Ticket.asset_id == newest.c.asset_id,
                Ticket.fault == newest.c.fault,
                Ticket.created_at == newest.c.at,
                Ticket.state != TicketState.cancelled,
            ),
        )
    )
    for ticket_id, asset_id, fault, created in rows:
        history[(asset_id, fault)].append((created, int(ticket_id)))
    siblings: list[tuple[Ticket, Ticket]] = []
    for ticket in sorted(failures, key=lambda t: t.created_at):
        if ticket.state is TicketState.cancelled:
            continue
        seen = history[(ticket.asset_id, ticket.fault)]
        earlier = [(created, ref) for created, ref in seen if created <= ticket.created_at]
        if earlier:
            created, ref = max(earlier, key=lambda e: e[0])
            if ticket.created_at - created <= REPEAT_WITHIN:
                if isinstance(ref, Ticket):
                    siblings.append((ticket, ref))
                else:
                    ticket.repeat_of = ref
        seen.append((ticket.created_at, ticket))
    return siblings


def link_repeats(siblings: Sequence[tuple[Ticket, Ticket]]) -> None:
    for ticket, earlier in siblings:
        ticket.repeat_of = earlier.id

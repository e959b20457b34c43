"""Registering tickets (one, or a batch from an integration, the alarm stage or the schedule):
validated against the ledger, SLA due times from the site's policies, dispatched emergencies
first, recorded with their failure classification and audit trail, and an emergency nobody
could take escalated at once. A batch is one unit: any invalid item refuses all of it, its error
naming the item (`3.asset_id`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from maintenance.assets.calendar import BusinessCalendar
from maintenance.assets.models import Asset, Location, Site
from maintenance.dispatch.service import DispatchPool
from maintenance.flows.escalation import escalate
from maintenance.notifications.notifier import Notifier
from maintenance.sla.policy import SlaPolicies, SlaTarget, due_times
from maintenance.vocabulary import Priority, TicketState, TicketType
from maintenance.work_orders import service
from maintenance.work_orders.lifecycle import Action, next_state
from maintenance.work_orders.models import Ticket
from maintenance.work_orders.schemas import TicketCreate

# A new ticket's first step: its state as built, who took the step, the step, and why.
Step = tuple[dict[str, Any], str, str, str]


@dataclass
class _Batch:
    tickets: list[Ticket] = field(default_factory=list)
    sla_sources: list[str] = field(default_factory=list)
    steps: dict[int, Step] = field(default_factory=dict)
    unassigned_emergencies: list[Ticket] = field(default_factory=list)


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
    sites = service.by_id(session, Site, {d.site_id for d in items})
    assets = service.by_id(session, Asset, {d.asset_id for d in items if d.asset_id is not None})
    locations = service.by_id(
        session, Location, {d.location_id for d in items if d.location_id is not None}
    )
    batch = _build(session, items, sites, assets, locations, now)
    _dispatch(session, batch, assets, actor, now)
    service.insert_new(
        session,
        batch.tickets,
        batch.steps,
        actor=actor,
        now=now,
        created_notes=[f"SLA from {source}" for source in batch.sla_sources],
    )
    for ticket in batch.unassigned_emergencies:
        escalate(
            session,
            ticket,
            f"unassigned emergency: {ticket.assignment_reason}",
            now=now,
            notifier=notifier,
            actor="dispatch",
        )
    return batch.tickets


def _build(
    session: Session,
    items: Sequence[TicketCreate],
    sites: dict[int, Site],
    assets: dict[int, Asset],
    locations: dict[int, Location],
    now: datetime,
) -> _Batch:
    """Validated tickets with their SLA due times (one policy lookup per site, type, priority)."""
    policies = SlaPolicies(session, set(sites))
    targets: dict[tuple[int, TicketType, Priority], SlaTarget] = {}
    batch = _Batch()
    for index, data in enumerate(items):
        where = f"{index}." if len(items) > 1 else ""
        site = service.validate_new(data, sites, assets, locations, where)
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
        batch.tickets.append(
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
        batch.sla_sources.append(targets[key].source)
    return batch


def _dispatch(
    session: Session, batch: _Batch, assets: dict[int, Asset], actor: str, now: datetime
) -> None:
    """Before inserting, emergencies first: each ticket is inserted in its final state (one
    INSERT for the batch, no UPDATE per ticket); the audit trail still shows both steps."""
    tickets = batch.tickets
    pool = DispatchPool(
        session,
        {t.site_id for t in tickets},
        {t.asset_id for t in tickets if t.asset_id is not None},
    )
    for index in sorted(range(len(tickets)), key=lambda i: (tickets[i].priority.rank, i)):
        ticket = tickets[index]
        created = service.snapshot(ticket)
        if ticket.type is TicketType.complaint and ticket.in_scope is False:
            ticket.state = next_state(TicketState.new, Action.cancel)
            ticket.cancel_reason = note = "out of scope at intake"
            batch.steps[index] = (created, actor, Action.cancel.value, note)
            continue
        asset = assets.get(ticket.asset_id) if ticket.asset_id is not None else None
        system = asset.system.value if asset else None
        choice = pool.choose(ticket.site_id, system, now, asset_id=ticket.asset_id)
        ticket.assignment_reason = choice.reason
        if choice.technician is None:
            batch.steps[index] = (created, "dispatch", "dispatch", choice.reason)
            if ticket.priority is Priority.emergency:
                batch.unassigned_emergencies.append(ticket)
            continue
        ticket.state = next_state(TicketState.new, Action.assign)
        ticket.assignee_id = choice.technician.id
        batch.steps[index] = (created, "dispatch", Action.assign.value, choice.reason)

"""Turns plans into inspection work orders: each due occurrence exactly once.

A run lists every occurrence from each plan's anchor up to today + lead time, claims the ones not
yet claimed (INSERT ... ON CONFLICT DO NOTHING on the unique (plan, asset, period), which serialises
concurrent schedulers on PostgreSQL), and creates one ticket per claimed occurrence through the
batch intake (SLA, checklist, dispatch). Occurrences whose due time has already passed (the
service was down) are generated once, marked late. Claims and tickets commit together.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from maintenance.assets.service import AssetLabel, labels
from maintenance.flows import intake
from maintenance.notifications.notifier import Notifier
from maintenance.plans.models import InspectionPlan, PlanOccurrence
from maintenance.plans.schedule import Occurrence, Tiers, occurrences
from maintenance.plans.usage import UsageSource, usage_periods
from maintenance.storage.db import insert_skipping_conflicts
from maintenance.vocabulary import Channel, TicketType
from maintenance.work_orders.models import Ticket
from maintenance.work_orders.schemas import TicketCreate

BATCH = 1000
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GenerationResult:
    created: int
    late: int


def _claim(session: Session, rows: list[dict[str, Any]]) -> list[tuple[int, int, str]]:
    key = ("plan_id", "asset_id", "period")
    statement = insert_skipping_conflicts(session, PlanOccurrence, key)
    claimed = session.execute(
        statement.returning(PlanOccurrence.plan_id, PlanOccurrence.asset_id, PlanOccurrence.period),
        rows,
    ).all()
    return [(p, a, period) for p, a, period in claimed]


def generate(
    session: Session, *, now: datetime, notifier: Notifier, usage: UsageSource | None = None
) -> GenerationResult:
    """Usage-based plans need `usage` (the telemetry store); without it they wait (a
    usage-or-calendar plan then follows its calendar)."""
    created = late = 0
    plans = session.scalars(
        select(InspectionPlan).where(InspectionPlan.paused.is_(False)).order_by(InspectionPlan.id)
    ).all()
    tiers = Tiers(session, list(session.scalars(select(InspectionPlan))))
    pending: list[Occurrence] = []
    for plan in plans:
        # What earlier runs claimed, read once per plan: a rerun then does no per-batch work.
        # (The claim itself stays the guard against concurrent runs.) A site's version of a
        # shipped plan also skips what the shipped one generated for it.
        claimed = _claimed(session, plan)
        # An asset the plan has had nothing for while it has generated for others joined the
        # ledger (or the plan's coverage) since: what fell due before that is not owed, and is
        # claimed without a ticket; downtime catch-up is for assets the plan already served.
        served = {a for a, _ in claimed} if claimed else None
        for occurrence in _found(session, plan, now, usage, tiers):
            if (occurrence.asset_id, occurrence.period) in claimed:
                continue
            claimed.add((occurrence.asset_id, occurrence.period))
            if served is not None and occurrence.asset_id not in served:
                if occurrence.due_at <= now:
                    occurrence = replace(occurrence, baseline=True)
            pending.append(occurrence)
            if len(pending) >= BATCH:
                c, lt = _generate_batch(session, pending, now, notifier)
                created, late, pending = created + c, late + lt, []
    if pending:
        c, lt = _generate_batch(session, pending, now, notifier)
        created, late = created + c, late + lt
    return GenerationResult(created, late)


def _claimed(session: Session, plan: InspectionPlan) -> set[tuple[int, str]]:
    owners = [plan.id] if plan.overrides_id is None else [plan.id, plan.overrides_id]
    return {
        (a, period)
        for a, period in session.execute(
            select(PlanOccurrence.asset_id, PlanOccurrence.period).where(
                PlanOccurrence.plan_id.in_(owners)
            )
        )
    }


def _found(
    session: Session,
    plan: InspectionPlan,
    now: datetime,
    usage: UsageSource | None,
    tiers: Tiers,
) -> Iterator[Occurrence]:
    if not plan.usage_metric or plan.usage_or_calendar:
        yield from occurrences(session, plan, now, tiers)
    if plan.usage_metric and usage is not None:
        checklist = tiers.checklist(plan)
        for a, site, period, due, baseline in usage_periods(session, plan, usage, now):
            yield Occurrence(plan, a, site, period, due, baseline, None, checklist)


def _generate_batch(
    session: Session, batch: list[Occurrence], now: datetime, notifier: Notifier
) -> tuple[int, int]:
    """Claim the batch's occurrences, open a ticket for each claimed one, link them."""
    claimed = set(_claim(session, [_claim_row(o, now) for o in batch]))
    mine = [o for o in batch if o.key in claimed and not o.baseline]
    if not mine:
        return 0, 0
    mine, linked = _already_ticketed(session, mine)
    assets = labels(session, {o.asset_id for o in mine})
    tickets = (
        intake.create_many(
            session,
            [_inspection(o, assets[o.asset_id], now) for o in mine],
            actor="schedule",
            now=now,
            notifier=notifier,
        )
        if mine
        else []
    )
    _link(session, [*zip(mine, (t.id for t in tickets), strict=True), *linked])
    return len(mine), sum(o.due_at <= now for o in mine)


def _claim_row(o: Occurrence, now: datetime) -> dict[str, Any]:
    return {
        "plan_id": o.plan.id,
        "asset_id": o.asset_id,
        "period": o.period,
        "due_at": o.due_at,
        "generated_at": now,
        "late": o.due_at <= now and not o.baseline,
        "opens_at": o.opens_at,
    }


def _already_ticketed(
    session: Session, mine: list[Occurrence]
) -> tuple[list[Occurrence], list[tuple[Occurrence, int]]]:
    """A ticket that already carries an occurrence's key (left by an interrupted run, or
    written by hand into the database) is that occurrence's ticket: linked, never a second
    insert that would fail the whole batch on the unique key. Answers the occurrences still
    to ticket and the (occurrence, ticket id) pairs to link."""
    refs = {_ref(o): o for o in mine}
    found = session.execute(select(Ticket.source_ref, Ticket.id).where(Ticket.source_ref.in_(refs)))
    taken = {row.source_ref: row.id for row in found}
    if taken:
        log.warning("plan occurrences already ticketed, linked: %s", sorted(map(str, taken)))
    linked = [(refs[ref], ticket_id) for ref, ticket_id in taken.items() if ref is not None]
    return [o for o in mine if _ref(o) not in taken], linked


def _inspection(o: Occurrence, asset: AssetLabel, now: datetime) -> TicketCreate:
    late = "; generated late: the service was down when it fell due" if o.due_at <= now else ""
    return TicketCreate(
        site_id=o.site_id,
        asset_id=o.asset_id,
        location_id=asset.location_id,
        type=TicketType.inspection,
        channel=Channel.schedule,
        priority=o.plan.priority,
        # The card must say which equipment and where (five inspections of one day otherwise
        # read alike).
        title=f"{o.plan.name} · {asset} ({o.period})"[:200],
        description=f"Plan #{o.plan.id}, due {o.due_at.isoformat()}{_standard(o.plan)}{late}",
        source_ref=_ref(o),
        due_at=o.due_at,
        checklist=list(o.checklist),
    )


def _standard(plan: InspectionPlan) -> str:
    """The standard the inspection follows, on the ticket."""
    if not plan.standard:
        return ""
    clause = plan.standard.get("clause")
    return f"; standard: {plan.standard.get('id')}" + (f", {clause}" if clause else "")


def _link(session: Session, pairs: list[tuple[Occurrence, int]]) -> None:
    table: Table = PlanOccurrence.__table__  # type: ignore[assignment]
    session.connection().execute(  # one pipelined executemany
        update(table)
        .where(
            table.c.plan_id == bindparam("p"),
            table.c.asset_id == bindparam("a"),
            table.c.period == bindparam("d"),
        )
        .values(ticket_id=bindparam("t")),
        [
            {"p": o.plan.id, "a": o.asset_id, "d": o.period, "t": ticket_id}
            for o, ticket_id in pairs
        ],
    )


def _ref(o: Occurrence) -> str:
    return f"plan:{o.plan.id}:asset:{o.asset_id}:{o.period}"

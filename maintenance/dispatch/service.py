"""Automatic assignment by skill, site, duty roster and workload, with the reason recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from maintenance.assets.models import Asset
from maintenance.dispatch.models import Technician, technician_sites
from maintenance.vocabulary import OPEN_STATES
from maintenance.work_orders.models import Ticket


@dataclass(frozen=True, slots=True)
class Choice:
    technician: Technician | None
    reason: str


def workloads(session: Session, technician_ids: list[int]) -> dict[int, int]:
    """Open tickets per technician (only those asked about: the index on (assignee, state)
    makes that cheap however many tickets there are)."""
    if not technician_ids:
        return {}
    rows = session.execute(
        select(Ticket.assignee_id, func.count())
        .where(Ticket.assignee_id.in_(technician_ids), Ticket.state.in_(OPEN_STATES))
        .group_by(Ticket.assignee_id)
    ).all()
    return {int(assignee or 0): int(count) for assignee, count in rows}


def on_duty(technician: Technician, now: datetime) -> bool:
    if not technician.shifts:
        return True
    return any(s.starts_at <= now < s.ends_at for s in technician.shifts)


def choose_technician(session: Session, ticket: Ticket, now: datetime) -> Choice:
    system = None
    if ticket.asset_id is not None:
        asset = session.get(Asset, ticket.asset_id)
        system = asset.system.value if asset else None
    local = session.scalars(
        select(Technician)
        .join(technician_sites, technician_sites.c.technician_id == Technician.id)
        .where(technician_sites.c.site_id == ticket.site_id, Technician.active.is_(True))
        .order_by(Technician.id)
    ).all()
    skilled = [t for t in local if system is None or system in t.skills]
    present = [t for t in skilled if on_duty(t, now)]
    if not present:
        need = f"skill {system} " if system else ""
        return Choice(
            None,
            f"no technician with {need}covering site {ticket.site_id} on duty "
            f"({len(local)} cover the site, {len(skilled)} of them skilled, none on duty)",
        )
    load = workloads(session, [t.id for t in present])
    chosen = min(present, key=lambda t: (load.get(t.id, 0), t.id))
    skill = f"skill {system}" if system else "any skill (no asset)"
    return Choice(
        chosen,
        f"auto: {skill}, covers site {ticket.site_id}, on duty, workload "
        f"{load.get(chosen.id, 0)} open ticket(s), the lowest of {len(present)} candidate(s)",
    )

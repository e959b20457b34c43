"""Automatic assignment by skill, site, duty roster and workload, with the reason recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from maintenance.assets.models import Asset
from maintenance.dispatch.models import Technician
from maintenance.vocabulary import OPEN_STATES
from maintenance.work_orders.models import Ticket


@dataclass(frozen=True, slots=True)
class Choice:
    technician: Technician | None
    reason: str


def workloads(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(Ticket.assignee_id, func.count())
        .where(Ticket.assignee_id.is_not(None), Ticket.state.in_(OPEN_STATES))
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
    technicians = session.scalars(
        select(Technician).where(Technician.active.is_(True)).order_by(Technician.id)
    ).all()
    load = workloads(session)
    skilled = [t for t in technicians if system is None or system in t.skills]
    local = [t for t in skilled if any(s.id == ticket.site_id for s in t.sites)]
    present = [t for t in local if on_duty(t, now)]
    if not present:
        need = f"skill {system}, " if system else ""
        return Choice(
            None,
            f"no technician with {need}site {ticket.site_id} on duty "
            f"({len(skilled)} skilled, {len(local)} covering the site, none on duty)",
        )
    chosen = min(present, key=lambda t: (load.get(t.id, 0), t.id))
    skill = f"skill {system}" if system else "any skill (no asset)"
    return Choice(
        chosen,
        f"auto: {skill}, covers site {ticket.site_id}, on duty, workload "
        f"{load.get(chosen.id, 0)} open ticket(s), the lowest of {len(present)} candidate(s)",
    )

"""Automatic assignment by skill, site, duty roster and workload, with the reason recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from maintenance.dispatch.models import Technician, technician_sites
from maintenance.language import phrases
from maintenance.vocabulary import OPEN_STATES
from maintenance.work_orders.models import Ticket


@dataclass(frozen=True, slots=True)
class Choice:
    technician: Technician | None
    reason: str


def workloads(session: Session, technician_ids: list[int]) -> dict[int, int]:
    """Open tickets per technician, counted. Dispatch reads Technician.open_tickets instead;
    this is the reference that tests hold the counter to."""
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


class DispatchPool:
    """The technicians of some sites with their duty shifts and open-ticket counts, loaded once,
    so that a batch of new tickets is dispatched without a query per ticket. Counts include the
    assignments made through the pool."""

    def __init__(self, session: Session, site_ids: set[int]) -> None:
        rows = session.execute(
            select(Technician, technician_sites.c.site_id)
            .join(technician_sites, technician_sites.c.technician_id == Technician.id)
            .where(technician_sites.c.site_id.in_(site_ids), Technician.active.is_(True))
            .options(selectinload(Technician.shifts))
            .order_by(Technician.id)
        ).all()
        self.by_site: dict[int, list[Technician]] = {}
        for technician, site_id in rows:
            self.by_site.setdefault(site_id, []).append(technician)
        self.load = {t.id: t.open_tickets for t, _ in rows}

    def choose(self, site_id: int, system: str | None, now: datetime) -> Choice:
        local = self.by_site.get(site_id, [])
        skilled = [t for t in local if system is None or system in t.skills]
        present = [t for t in skilled if on_duty(t, now)]
        if not present:
            counts = {"site": site_id, "covering": len(local), "skilled": len(skilled)}
            nobody = (
                phrases.NOBODY_ON_DUTY.write(skill=system, **counts)
                if system
                else phrases.NOBODY_ON_DUTY_ANY_SKILL.write(**counts)
            )
            return Choice(None, nobody)
        chosen = min(present, key=lambda t: (self.load[t.id], t.id))
        figures = {"site": site_id, "load": self.load[chosen.id], "candidates": len(present)}
        reason = (
            phrases.DISPATCHED.write(skill=system, **figures)
            if system
            else phrases.DISPATCHED_ANY_SKILL.write(**figures)
        )
        self.load[chosen.id] += 1
        return Choice(chosen, reason)

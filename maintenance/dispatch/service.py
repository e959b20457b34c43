"""Automatic assignment by skill, site, duty roster and workload, with the reason recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from maintenance.accounts.models import contractor_assets
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
    assignments made through the pool. An asset a contractor company is responsible for goes to
    that company's technicians; every other ticket to the in-house ones."""

    def __init__(self, session: Session, site_ids: set[int], asset_ids: set[int]) -> None:
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
        self.contractors: dict[int, int] = {}
        if asset_ids:
            found = session.execute(
                select(contractor_assets.c.asset_id, contractor_assets.c.contractor_id).where(
                    contractor_assets.c.asset_id.in_(sorted(asset_ids))
                )
            )
            self.contractors = {int(a): int(c) for a, c in found}

    def choose(
        self, site_id: int, system: str | None, now: datetime, asset_id: int | None = None
    ) -> Choice:
        contractor = self.contractors.get(asset_id) if asset_id is not None else None
        local = [t for t in self.by_site.get(site_id, []) if t.contractor_id == contractor]
        skilled = [t for t in local if system is None or system in t.skills]
        present = [t for t in skilled if on_duty(t, now)]
        if not present:
            counts = {"site": site_id, "covering": len(local), "skilled": len(skilled)}
            if contractor is not None:
                nobody = phrases.NOBODY_ON_DUTY_CONTRACTOR.write(
                    contractor=contractor, skill=system or "-", **counts
                )
            elif system:
                nobody = phrases.NOBODY_ON_DUTY.write(skill=system, **counts)
            else:
                nobody = phrases.NOBODY_ON_DUTY_ANY_SKILL.write(**counts)
            return Choice(None, nobody)
        chosen = min(present, key=lambda t: (self.load[t.id], t.id))
        figures = {"site": site_id, "load": self.load[chosen.id], "candidates": len(present)}
        if contractor is not None:
            reason = phrases.DISPATCHED_CONTRACTOR.write(
                contractor=contractor, skill=system or "-", **figures
            )
        elif system:
            reason = phrases.DISPATCHED.write(skill=system, **figures)
        else:
            reason = phrases.DISPATCHED_ANY_SKILL.write(**figures)
        self.load[chosen.id] += 1
        return Choice(chosen, reason)

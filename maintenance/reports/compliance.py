"""Compliance at a glance: per site and programme, the occurrences whose tolerance window
closed (or closes) in the period: due, done in the window, done early (before it opened),
done late, missed (not done when it closed) and still open; with the standard's name.

An occurrence's window is [opens_at, due_at] (plans without a window: done by due_at); the
completion is the ticket's resolution. Cancelled inspections count as missed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from maintenance.assets.models import Asset, Site
from maintenance.plans.defaults import standard_name
from maintenance.plans.models import InspectionPlan, PlanOccurrence
from maintenance.plans.schedule import DONE
from maintenance.scope import Scope
from maintenance.work_orders.models import Ticket


@dataclass(frozen=True, slots=True)
class ProgrammeCompliance:
    site_id: int
    site: str
    plan_id: int
    programme: str  # the plan's stored name (a shipped one: say it with shipped_title)
    standard: str  # "TSG T5002-2017 Annex A, A-1 电梯维护保养规则"; "" if none
    regulated: bool
    due: int
    in_window: int
    early: int
    late: int
    missed: int
    open: int

    @property
    def share_in_window(self) -> float | None:
        decided = self.due - self.open
        return self.in_window / decided if decided else None


def compliance_view(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    scope: Scope,
    site_id: int | None = None,
) -> list[ProgrammeCompliance]:
    done = and_(Ticket.state.in_(DONE), Ticket.resolved_at.is_not(None))
    opened = or_(PlanOccurrence.opens_at.is_(None), Ticket.resolved_at >= PlanOccurrence.opens_at)
    q = (
        select(
            Asset.site_id,
            PlanOccurrence.plan_id,
            func.count(),
            func.count().filter(done, Ticket.resolved_at <= PlanOccurrence.due_at, opened),
            func.count().filter(done, Ticket.resolved_at < PlanOccurrence.opens_at),
            func.count().filter(done, Ticket.resolved_at > PlanOccurrence.due_at),
            func.count().filter(~done, PlanOccurrence.due_at < now),
            func.count().filter(~done, PlanOccurrence.due_at >= now),
        )
        .select_from(PlanOccurrence)
        .join(Ticket, Ticket.id == PlanOccurrence.ticket_id)
        .join(Asset, Asset.id == PlanOccurrence.asset_id)
        .where(PlanOccurrence.due_at >= start, PlanOccurrence.due_at < end)
        .where(scope.where(Asset.site_id, Asset.id))
        .group_by(Asset.site_id, PlanOccurrence.plan_id)
        .order_by(Asset.site_id, PlanOccurrence.plan_id)
    )
    if site_id is not None:
        q = q.where(Asset.site_id == site_id)
    rows = session.execute(q).all()
    plans = {p.id: p for p in session.scalars(select(InspectionPlan))}
    sites = {site.id: site.name for site in session.scalars(select(Site))}
    return [
        ProgrammeCompliance(
            s,
            sites[s],
            p,
            plans[p].name,
            standard_name(plans[p]),
            plans[p].regulated,
            *counts,
        )
        for s, p, *counts in rows
    ]

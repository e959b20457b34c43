"""Plans as the API and CLI see them: create, change, pause, preview; and PM compliance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import and_, exists, func, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from maintenance.assets.models import Asset, Site
from maintenance.errors import InvalidInput, NotFound
from maintenance.plans.cadence import Cadence, CadenceError
from maintenance.plans.checklists import CHECKLISTS
from maintenance.plans.models import InspectionPlan, PlanOccurrence
from maintenance.plans.schedule import Tiers, occurrences
from maintenance.scope import Scope
from maintenance.storage.db import get_required
from maintenance.vocabulary import Id, Priority, System, TicketState
from maintenance.work_orders.models import Ticket


class Standard(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=100)
    clause: str | None = Field(None, max_length=300)
    title: str | None = Field(None, max_length=200)


class PlanCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Monthly pump check, estate 1",
                    "site_id": 1,
                    "system": "water",
                    "every": 1,
                    "unit": "months",
                    "starts_on": "2027-01-31",
                },
                {
                    "name": "First-Monday fire walk",
                    "system": "fire",
                    "rrule": "FREQ=MONTHLY;BYDAY=1MO",
                    "starts_on": "2027-01-01",
                },
            ]
        },
    )

    name: str = Field(min_length=1, max_length=200)
    site_id: Id | None = None
    system: System | None = None
    asset_type: str | None = Field(None, max_length=100)
    asset_id: Id | None = None
    every: int = Field(1, ge=1, le=1000)
    unit: Literal["days", "weeks", "half_months", "months", "quarters", "years"] = "months"
    rrule: str | None = Field(None, max_length=500)
    starts_on: date
    lead_days: int = Field(7, ge=0, le=90)
    priority: Priority = Priority.normal
    checklist: list[dict[str, Any]] | None = Field(None, description="unset: the system's template")
    paused: bool = False
    usage_metric: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$",
        description="usage-based: a counter in the telemetry (trips, door_cycles, running_hours)",
    )
    usage_every: float | None = Field(None, gt=0, description="a ticket every this much usage")
    usage_or_calendar: bool = Field(
        False, description="usage and calendar: whichever comes first (every/unit after the last)"
    )
    programme: str | None = Field(
        None, max_length=64, description="tiers of one programme: a higher one replaces a lower"
    )
    standard: Standard | None = None
    regulated: bool = Field(False, description="overdue occurrences notify the site's manager")
    anchoring: Literal["fixed", "floating"] = Field(
        "fixed", description="fixed: the schedule; floating: after the last completion"
    )
    early_days: int = Field(0, ge=0, le=90, description="window: done this early is on time")
    late_days: int = Field(0, ge=0, le=90, description="window: done this late is on time")
    due_from_ledger: bool = Field(
        False, description="the asset's inspection_due in the ledger is the date"
    )
    site_risk_class: Literal["normal", "hazardous"] | None = None
    active_from: date | None = Field(None, description="no occurrence before this date")

    @model_validator(mode="after")
    def _valid_cadence(self) -> PlanCreate:
        try:
            Cadence(self.every, self.unit, self.rrule)
        except CadenceError as error:
            raise ValueError(str(error)) from None
        if (self.usage_metric is None) != (self.usage_every is None):
            raise ValueError("usage_metric and usage_every go together")
        if self.usage_or_calendar and self.usage_metric is None:
            raise ValueError("usage_or_calendar needs usage_metric and usage_every")
        if self.lead_days < self.early_days:
            raise ValueError("lead_days: at least early_days (the ticket exists when due)")
        return self


class PlanRead(PlanCreate):
    model_config = ConfigDict(from_attributes=True)
    id: int
    overrides_id: int | None = None


def within(scope: Scope) -> ColumnElement[bool]:
    """The plans a caller sees: those of their sites (and every site's plans, which cover their
    sites too); for a contractor's people, those that cover one of their company's assets."""
    if scope.everything:
        return true()
    condition = or_(InspectionPlan.site_id.is_(None), scope.where_site(InspectionPlan.site_id))
    if scope.asset_ids is None:
        return condition
    covered = exists(
        select(Asset.id).where(
            scope.where(Asset.site_id, Asset.id),
            or_(InspectionPlan.asset_id.is_(None), Asset.id == InspectionPlan.asset_id),
            or_(InspectionPlan.site_id.is_(None), Asset.site_id == InspectionPlan.site_id),
            or_(InspectionPlan.system.is_(None), Asset.system == InspectionPlan.system),
            or_(InspectionPlan.asset_type.is_(None), Asset.type == InspectionPlan.asset_type),
        )
    )
    return and_(condition, covered)


def all_plans(session: Session, *, scope: Scope) -> list[InspectionPlan]:
    return list(
        session.scalars(select(InspectionPlan).where(within(scope)).order_by(InspectionPlan.id))
    )


def visible_plan(session: Session, plan_id: int, *, scope: Scope) -> InspectionPlan:
    """A plan outside the caller's scope is, for them, not there (404)."""
    plan = session.scalar(select(InspectionPlan).where(InspectionPlan.id == plan_id, within(scope)))
    if plan is None:
        raise NotFound("plan", plan_id)
    return plan


def save_plan(
    session: Session,
    data: PlanCreate,
    *,
    now: datetime,
    scope: Scope,
    plan: InspectionPlan | None = None,
) -> InspectionPlan:
    """A plan of a site-scoped caller names one of their sites (a plan of every site would
    reach sites they do not see); a site or asset outside is not found."""
    if data.site_id is not None:
        if not scope.admits_site(data.site_id):
            raise NotFound("site", data.site_id)
        get_required(session, Site, data.site_id, "site")
    elif not scope.everything:
        raise InvalidInput("site_id", "name one of your sites")
    if data.asset_id is not None:
        asset = get_required(session, Asset, data.asset_id, "asset")
        if not scope.admits(asset.site_id, asset.id):
            raise NotFound("asset", data.asset_id)
    checklist = data.checklist
    if checklist is None:
        if data.system is None:
            raise InvalidInput("checklist", "give a checklist, or a system to take its template")
        checklist = CHECKLISTS[data.system.value]
    fields = {
        **data.model_dump(exclude={"checklist", "standard"}),
        "checklist": checklist,
        "standard": data.standard.model_dump(exclude_none=True) if data.standard else None,
    }
    if plan is None:
        plan = InspectionPlan(**fields, created_at=now)
        session.add(plan)
    else:
        for name, value in fields.items():
            setattr(plan, name, value)
    session.flush()
    return plan


@dataclass(frozen=True, slots=True)
class PreviewItem:
    asset_id: int
    day: date
    due_at: datetime


def preview(
    session: Session,
    plan: InspectionPlan,
    *,
    today: date,
    scope: Scope,
    days: int = 365,
    limit: int = 10_000,
) -> list[PreviewItem]:
    """The occurrences the next `days` would generate (already generated ones excluded) for
    the assets of the caller's scope, as the generation sees them: tiers, windows, ledger
    dates; a floating plan's next one only (the ones after it depend on when it is done)."""
    done = {
        (a, p)
        for a, p in session.execute(
            select(PlanOccurrence.asset_id, PlanOccurrence.period).where(
                PlanOccurrence.plan_id == plan.id
            )
        )
    }
    tiers = Tiers(session, list(session.scalars(select(InspectionPlan))))
    now = datetime.combine(today, time(), UTC)
    out: list[PreviewItem] = []
    for o in occurrences(session, plan, now, tiers, horizon_date=today + timedelta(days=days)):
        if not scope.admits(o.site_id, o.asset_id):
            continue
        day = date.fromisoformat(o.period)
        if day >= today and (o.asset_id, o.period) not in done:
            out.append(PreviewItem(o.asset_id, day, o.due_at))
            if len(out) >= limit:
                break
    return sorted(out, key=lambda i: (i.day, i.asset_id))


@dataclass(frozen=True, slots=True)
class Compliance:
    site_id: int
    system: str
    due: int
    on_time: int
    late: int
    open_overdue: int
    early: int = 0  # done before its tolerance window opened: not on time either

    @property
    def share_on_time(self) -> float | None:
        return self.on_time / self.due if self.due else None


def compliance(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    scope: Scope,
    site_id: int | None = None,
) -> list[Compliance]:
    """Per site and system: inspections due in [start, end) and how many were completed (resolved
    or beyond) by their due time (inside the tolerance window, for plans with one)."""
    done_states = (TicketState.resolved, TicketState.verified, TicketState.closed)
    on_time = and_(
        Ticket.state.in_(done_states),
        Ticket.resolved_at.is_not(None),
        Ticket.resolved_at <= PlanOccurrence.due_at,
        or_(PlanOccurrence.opens_at.is_(None), Ticket.resolved_at >= PlanOccurrence.opens_at),
    )
    early = and_(Ticket.state.in_(done_states), Ticket.resolved_at < PlanOccurrence.opens_at)
    late = and_(Ticket.state.in_(done_states), Ticket.resolved_at > PlanOccurrence.due_at)
    overdue = and_(Ticket.state.not_in(done_states), PlanOccurrence.due_at < now)
    q = (
        select(
            Asset.site_id,
            Asset.system,
            func.count(),
            func.count().filter(on_time),
            func.count().filter(late),
            func.count().filter(overdue),
            func.count().filter(early),
        )
        .select_from(PlanOccurrence)
        .join(Ticket, Ticket.id == PlanOccurrence.ticket_id)
        .join(Asset, Asset.id == PlanOccurrence.asset_id)
        .where(PlanOccurrence.due_at >= start, PlanOccurrence.due_at < end)
        .where(scope.where(Asset.site_id, Asset.id))
        .group_by(Asset.site_id, Asset.system)
        .order_by(Asset.site_id, Asset.system)
    )
    if site_id is not None:
        q = q.where(Asset.site_id == site_id)
    return [
        Compliance(s, str(getattr(sy, "value", sy)), d, o, lt, od, e)
        for s, sy, d, o, lt, od, e in session.execute(q)
    ]

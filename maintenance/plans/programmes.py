"""A site's programmes: each shipped (estate-wide) plan as it applies to one site — enabled or
not, and edited — through a version of the site's own that the shipped plan then leaves the
site to. The site's version starts today and skips what the shipped plan already generated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from maintenance.assets.models import Site
from maintenance.errors import InvalidInput
from maintenance.plans.defaults import shipped_title, standard_name
from maintenance.plans.models import InspectionPlan
from maintenance.storage.db import get_required

EDITABLE = ("every", "unit", "early_days", "late_days", "lead_days", "anchoring", "checklist")


class ProgrammeChange(BaseModel):
    """What a site changes of a programme; unset fields keep the shipped plan's."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    every: int | None = Field(None, ge=1, le=1000)
    unit: Literal["days", "weeks", "half_months", "months", "quarters", "years"] | None = None
    early_days: int | None = Field(None, ge=0, le=90)
    late_days: int | None = Field(None, ge=0, le=90)
    lead_days: int | None = Field(None, ge=0, le=90)
    anchoring: Literal["fixed", "floating"] | None = None
    checklist: list[dict[str, Any]] | None = None

    @model_validator(mode="after")
    def _lead_covers_the_window(self) -> ProgrammeChange:
        if self.lead_days is not None and self.early_days is not None:
            if self.lead_days < self.early_days:
                raise ValueError("lead_days: at least early_days (the ticket exists when due)")
        return self


@dataclass(frozen=True, slots=True)
class SiteProgramme:
    plan_id: int  # the shipped plan
    name: str
    standard: str
    regulated: bool
    enabled: bool
    own_plan_id: int | None  # the site's version, if it has one
    every: int
    unit: str
    early_days: int
    late_days: int
    anchoring: str


def site_programmes(session: Session, site_id: int) -> list[SiteProgramme]:
    get_required(session, Site, site_id, "site")
    plans = list(session.scalars(select(InspectionPlan).order_by(InspectionPlan.id)))
    own = {p.overrides_id: p for p in plans if p.site_id == site_id and p.overrides_id}
    out = []
    for shipped in (p for p in plans if p.site_id is None and p.overrides_id is None):
        plan = own.get(shipped.id, shipped)
        out.append(
            SiteProgramme(
                shipped.id,
                shipped_title(shipped.name),
                standard_name(shipped),
                shipped.regulated,
                not plan.paused,
                plan.id if plan is not shipped else None,
                plan.every,
                plan.unit,
                plan.early_days,
                plan.late_days,
                plan.anchoring,
            )
        )
    return out


def change_for_site(
    session: Session, site_id: int, plan_id: int, change: ProgrammeChange, *, now: datetime
) -> InspectionPlan:
    """The site's version of a shipped plan, made or changed: `enabled: false` pauses it."""
    get_required(session, Site, site_id, "site")
    shipped = get_required(session, InspectionPlan, plan_id, "plan")
    if shipped.site_id is not None or shipped.overrides_id is not None:
        raise InvalidInput("plan_id", "not an estate-wide programme: change the plan itself")
    plan = session.scalar(
        select(InspectionPlan).where(
            InspectionPlan.overrides_id == shipped.id, InspectionPlan.site_id == site_id
        )
    )
    if plan is None:
        plan = _copy(shipped, site_id, now)
        session.add(plan)
    for name in EDITABLE:
        value = getattr(change, name)
        if value is not None:
            setattr(plan, name, value)
    if plan.lead_days < plan.early_days:
        raise InvalidInput("lead_days", "at least early_days (the ticket exists when due)")
    plan.paused = not change.enabled
    session.flush()
    return plan


def _copy(shipped: InspectionPlan, site_id: int, now: datetime) -> InspectionPlan:
    columns = InspectionPlan.__table__.columns.keys()
    fields = {c: getattr(shipped, c) for c in columns if c not in ("id", "created_at")}
    today: date = now.date()
    return InspectionPlan(
        **{**fields, "site_id": site_id, "overrides_id": shipped.id, "active_from": today},
        created_at=now,
    )

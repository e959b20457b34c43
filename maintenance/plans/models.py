from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Enum,
    ForeignKey,
    String,
    UniqueConstraint,
    false,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from maintenance.assets.models import Asset, Site
from maintenance.storage.db import Base, UtcDateTime
from maintenance.vocabulary import Priority, System


class InspectionPlan(Base):
    """What to inspect (a site, system, asset type or one asset; unset = any) and how often."""

    __tablename__ = "inspection_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    system: Mapped[System | None] = mapped_column(Enum(System, native_enum=False, length=16))
    asset_type: Mapped[str | None] = mapped_column(String(100))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    every: Mapped[int] = mapped_column(default=1)
    unit: Mapped[str] = mapped_column(String(16), default="months")
    rrule: Mapped[str | None] = mapped_column(String(500))
    starts_on: Mapped[date]
    lead_days: Mapped[int] = mapped_column(default=7)  # tickets appear this long before due
    priority: Mapped[Priority] = mapped_column(
        Enum(Priority, native_enum=False, length=16), default=Priority.normal
    )
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    paused: Mapped[bool] = mapped_column(default=False)
    # Usage-based instead of calendar: a ticket each time the asset's devices' counter crosses
    # another multiple of usage_every (e.g. every 50,000 trips or 500 running hours).
    usage_metric: Mapped[str | None] = mapped_column(String(64))
    usage_every: Mapped[float | None] = mapped_column()
    # Usage and calendar together: due at the counter's next multiple or `every` `unit` after
    # the asset's last occurrence, whichever comes first.
    usage_or_calendar: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The programme library (docs/maintenance-plans.md): the programme a plan belongs to (its
    # tiers share it: on a date a higher tier falls due it replaces the lower ones), and the
    # standard it comes from ({"id": "TSG T5002-2017", "clause": "...", "title": "..."}).
    programme: Mapped[str | None] = mapped_column(String(64))
    standard: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    regulated: Mapped[bool] = mapped_column(default=False, server_default=false())
    # fixed: the next due date follows the schedule; floating: the last completion.
    anchoring: Mapped[str] = mapped_column(String(10), default="fixed", server_default="fixed")
    # The tolerance window around an occurrence's day D: done from D - early_days to the end of
    # D + late_days is on time. No window (both 0): done by the end of D is on time.
    early_days: Mapped[int] = mapped_column(default=0, server_default="0")
    late_days: Mapped[int] = mapped_column(default=0, server_default="0")
    # The occurrence's date per asset from the ledger (Asset.inspection_due) instead of a cadence.
    due_from_ledger: Mapped[bool] = mapped_column(default=False, server_default=false())
    site_risk_class: Mapped[str | None] = mapped_column(String(16))  # scope: sites of that class
    # A site's own version of a shipped programme: the shipped plan then leaves that site out.
    overrides_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_plans.id"))
    active_from: Mapped[date | None]  # no occurrence before this date

    @property
    def has_window(self) -> bool:
        return bool(self.early_days or self.late_days)

    def coverage(self) -> list[ColumnElement[bool]]:
        """Conditions on assets joined with their site that select what the plan covers."""
        scope = (
            (Asset.id, self.asset_id),
            (Asset.site_id, self.site_id),
            (Asset.system, self.system),
            (Asset.type, self.asset_type),
        )
        conditions = [column == value for column, value in scope if value is not None]
        if self.site_risk_class is not None:
            conditions.append(Site.risk_class == self.site_risk_class)
        if self.site_id is None:  # sites with their own version of this plan are theirs
            mine = select(InspectionPlan.site_id).where(
                InspectionPlan.overrides_id == self.id, InspectionPlan.site_id.is_not(None)
            )
            conditions.append(Asset.site_id.not_in(mine))
        return conditions


class PlanOccurrence(Base):
    """One due occurrence of a plan for an asset. The unique key (plan, asset, period) is the
    claim that makes generation idempotent across restarts, reruns and concurrent schedulers."""

    __tablename__ = "plan_occurrences"
    __table_args__ = (UniqueConstraint("plan_id", "asset_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("inspection_plans.id"))
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"))
    period: Mapped[str] = mapped_column(String(40))  # the occurrence's local date
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    generated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    late: Mapped[bool] = mapped_column(default=False)  # generated after it fell due
    # due_at is the window's close; opens_at its start (None: the plan has no window)
    opens_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from maintenance.assets.models import Asset
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
    unit: Mapped[str] = mapped_column(String(10), default="months")
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
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def coverage(self) -> list[ColumnElement[bool]]:
        """Conditions on assets (joinable with their site) that select what the plan covers."""
        scope = (
            (Asset.id, self.asset_id),
            (Asset.site_id, self.site_id),
            (Asset.system, self.system),
            (Asset.type, self.asset_type),
        )
        return [column == value for column, value in scope if value is not None]


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
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))

"""Failure-rate trends: failures (alarm and repair tickets, cancelled ones aside) per asset per
month by system, site or asset type; MTBF and MTTR; repeat failures (the same asset and fault
within 30 days); top causes.

A failure's fault (the alarm rule of an alarm ticket, `repair` for a person's repair request)
and the earlier failure it repeats are recorded on the ticket when it opens
(maintenance/work_orders/failures.py): the report is one aggregate over the period."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from maintenance.assets.models import Asset, Site
from maintenance.errors import NotFound
from maintenance.reports.sql import hours_between, month_of
from maintenance.scope import Scope
from maintenance.vocabulary import TicketState
from maintenance.work_orders.failures import FAILURE_TYPES, REPAIR_FAULT
from maintenance.work_orders.models import Ticket

GroupBy = Literal["system", "site", "asset_type"]


@dataclass(frozen=True, slots=True)
class TrendRow:
    month: str  # YYYY-MM
    group: str
    failures: int
    assets: int  # assets in the group (the ledger's count)
    failures_per_asset: float


@dataclass(frozen=True, slots=True)
class GroupFigures:
    group: str
    failures: int
    assets: int
    mtbf_hours: float | None  # asset operating hours in the period so far per failure
    mttr_hours: float | None  # mean time from report to resolution of resolved failures
    repeat_failures: int


@dataclass(frozen=True, slots=True)
class FailureReport:
    start: datetime
    end: datetime
    group_by: GroupBy
    trend: list[TrendRow]
    groups: list[GroupFigures]
    top_causes: list[tuple[str, int]]


def failure_report(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    scope: Scope,
    group_by: GroupBy = "system",
    site_id: int | None = None,
    top: int = 10,
    now: datetime | None = None,
) -> FailureReport:
    """`now`: a period still under way counts its hours up to now (the days to come have had
    no chance to fail) for MTBF."""
    if site_id is not None and not scope.admits_site(site_id):
        raise NotFound("site", site_id)
    key = GROUP_KEYS[group_by]
    assets_q = select(key, func.count()).select_from(Asset).join(Site, Site.id == Asset.site_id)
    assets_q = assets_q.where(scope.where(Asset.site_id, Asset.id))
    if site_id is not None:
        assets_q = assets_q.where(Asset.site_id == site_id)
    assets = {_text(k): n for k, n in session.execute(assets_q.group_by(key))}
    totals = _Totals()
    for row in session.execute(_failures_query(session, start, end, group_by, site_id, scope)):
        totals.add(*row)
    trend = [
        TrendRow(
            month, group, n, assets.get(group, 0), n / assets[group] if assets.get(group) else 0.0
        )
        for (month, group), n in sorted(totals.per_month.items())
    ]
    until = end if now is None else max(start, min(end, now))
    hours = (until - start).total_seconds() / 3600
    groups = [totals.figures(group, count, hours) for group, count in sorted(assets.items())]
    # most failures first; a tie in the order of the fault names
    top_causes = sorted(totals.causes.items(), key=lambda c: (-c[1], c[0]))[:top]
    return FailureReport(start, end, group_by, trend, groups, top_causes)


GROUP_KEYS: dict[GroupBy, Any] = {
    "system": Asset.system,
    "site": Site.code,
    "asset_type": Asset.type,
}


def _failures_query(
    session: Session,
    start: datetime,
    end: datetime,
    group_by: GroupBy,
    site_id: int | None,
    scope: Scope,
) -> Select[Any]:
    """One aggregate over the period's failures by (group, month, fault)."""
    dialect = session.get_bind().dialect.name
    q = (
        select(
            GROUP_KEYS[group_by].label("grp"),
            month_of(Ticket.created_at, dialect).label("month"),
            func.nullif(Ticket.fault, REPAIR_FAULT).label("cause"),
            func.count(),
            func.sum(hours_between(Ticket.created_at, Ticket.resolved_at, dialect)).filter(
                Ticket.resolved_at.is_not(None)
            ),
            func.count(Ticket.resolved_at),
            func.count(Ticket.repeat_of),
        )
        .join(Asset, Asset.id == Ticket.asset_id)
        .where(
            Ticket.type.in_(FAILURE_TYPES),
            Ticket.state != TicketState.cancelled,
            Ticket.created_at >= start,
            Ticket.created_at < end,
            scope.where(Ticket.site_id, Ticket.asset_id),
        )
        .group_by("grp", "month", "cause")
    )
    if group_by == "site":
        q = q.join(Site, Site.id == Asset.site_id)
    if site_id is not None:
        q = q.where(Asset.site_id == site_id)
    return q


@dataclass
class _Totals:
    """The aggregate's rows added up per group (and per month for the trend)."""

    per_month: Counter[tuple[str, str]] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    repair_hours: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    repaired: Counter[str] = field(default_factory=Counter)
    repeats: Counter[str] = field(default_factory=Counter)
    causes: Counter[str] = field(default_factory=Counter)

    def add(
        self,
        group_value: object,
        month: object,
        fault: object,
        n: int,
        hours_sum: float | None,
        n_resolved: int,
        n_repeats: int,
    ) -> None:
        group = _text(group_value)
        self.per_month[(_month(month), group)] += n
        self.failures[group] += n
        self.repair_hours[group] += float(hours_sum or 0)
        self.repaired[group] += n_resolved
        self.repeats[group] += n_repeats
        if fault is not None:  # a person's repair request records no cause
            self.causes[_text(fault)] += n

    def figures(self, group: str, assets: int, hours: float) -> GroupFigures:
        """MTBF: asset hours per failure; MTTR: mean report-to-resolution of the resolved."""
        failed, repaired = self.failures[group], self.repaired[group]
        return GroupFigures(
            group,
            failed,
            assets,
            hours * assets / failed if failed and hours > 0 else None,
            self.repair_hours[group] / repaired if repaired else None,
            self.repeats[group],
        )


def _month(value: object) -> str:
    """YYYY-MM from the database's month (a truncated timestamp, or already text)."""
    return value.strftime("%Y-%m") if isinstance(value, datetime) else str(value)


def _text(value: object) -> str:
    return str(getattr(value, "value", value))

"""Failure-rate trends: failures (alarm and repair tickets, cancelled ones aside) per asset per
month by system, site or asset type; MTBF and MTTR; repeat failures (the same asset and fault
within 30 days); top causes.

A failure's fault (the alarm rule of an alarm ticket, `repair` for a person's repair request)
and the earlier failure it repeats are recorded on the ticket when it opens
(maintenance/work_orders/failures.py): the report is one aggregate over the period."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from maintenance.assets.models import Asset, Site
from maintenance.reports.sql import hours_between, month_of
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
    group_by: GroupBy = "system",
    site_id: int | None = None,
    top: int = 10,
    now: datetime | None = None,
) -> FailureReport:
    """`now`: a period still under way counts its hours up to now (the days to come have had
    no chance to fail) for MTBF."""
    key = {
        "system": Asset.system,
        "site": Site.code,
        "asset_type": Asset.type,
    }[group_by]
    assets_q = select(key, func.count()).select_from(Asset).join(Site, Site.id == Asset.site_id)
    if site_id is not None:
        assets_q = assets_q.where(Asset.site_id == site_id)
    assets = {_text(k): n for k, n in session.execute(assets_q.group_by(key))}
    dialect = session.get_bind().dialect.name
    failures_q = (
        select(
            key.label("grp"),
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
        )
        .group_by("grp", "month", "cause")
    )
    if group_by == "site":
        failures_q = failures_q.join(Site, Site.id == Asset.site_id)
    if site_id is not None:
        failures_q = failures_q.where(Asset.site_id == site_id)
    # One aggregate over the failures by (group, month, fault); the rest adds up here.
    per_month: Counter[tuple[str, str]] = Counter()
    failures: Counter[str] = Counter()
    repair_hours: defaultdict[str, float] = defaultdict(float)
    repaired: Counter[str] = Counter()
    repeats: Counter[str] = Counter()
    causes: Counter[str] = Counter()
    for group_value, month, fault, n, hours_sum, n_resolved, n_repeats in session.execute(
        failures_q
    ):
        group = _text(group_value)
        per_month[(_month(month), group)] += n
        failures[group] += n
        repair_hours[group] += float(hours_sum or 0)
        repaired[group] += n_resolved
        repeats[group] += n_repeats
        if fault is not None:  # a person's repair request records no cause
            causes[_text(fault)] += n
    trend = [
        TrendRow(
            month, group, n, assets.get(group, 0), n / assets[group] if assets.get(group) else 0.0
        )
        for (month, group), n in sorted(per_month.items())
    ]
    until = end if now is None else max(start, min(end, now))
    hours = (until - start).total_seconds() / 3600
    groups = [
        GroupFigures(
            group,
            failures[group],
            count,
            hours * count / failures[group] if failures[group] and hours > 0 else None,
            repair_hours[group] / repaired[group] if repaired[group] else None,
            repeats[group],
        )
        for group, count in sorted(assets.items())
    ]
    # most failures first; a tie in the order of the fault names
    top_causes = sorted(causes.items(), key=lambda c: (-c[1], c[0]))[:top]
    return FailureReport(start, end, group_by, trend, groups, top_causes)


def _month(value: object) -> str:
    """YYYY-MM from the database's month (a truncated timestamp, or already text)."""
    return value.strftime("%Y-%m") if isinstance(value, datetime) else str(value)


def _text(value: object) -> str:
    return str(getattr(value, "value", value))

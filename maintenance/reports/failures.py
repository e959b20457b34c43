"""Failure-rate trends: failures (alarm and repair tickets, cancelled ones aside) per asset per
month by system, site or asset type; MTBF and MTTR; repeat failures (the same asset and fault
within 30 days); top causes.

A failure's fault is the alarm rule for an alarm ticket and `repair` for a repair request (a
person's report names no fault code)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from maintenance.alarms.models import Alarm
from maintenance.assets.models import Asset, Site
from maintenance.vocabulary import TicketState, TicketType
from maintenance.work_orders.models import Ticket

GroupBy = Literal["system", "site", "asset_type"]
FAILURE_TYPES = (TicketType.alarm, TicketType.repair)
REPEAT_WITHIN = timedelta(days=30)


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
    mtbf_hours: float | None  # asset operating hours in the period per failure
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
) -> FailureReport:
    key = {
        "system": Asset.system,
        "site": Site.code,
        "asset_type": Asset.type,
    }[group_by]
    assets_q = select(key, func.count()).select_from(Asset).join(Site, Site.id == Asset.site_id)
    if site_id is not None:
        assets_q = assets_q.where(Asset.site_id == site_id)
    assets = {_text(k): n for k, n in session.execute(assets_q.group_by(key))}
    rows_q = (
        select(
            Ticket.asset_id,
            key,
            Ticket.created_at,
            Ticket.resolved_at,
            Ticket.source_ref,
            Ticket.type,
        )
        .join(Asset, Asset.id == Ticket.asset_id)
        .join(Site, Site.id == Asset.site_id)
        .where(
            Ticket.type.in_(FAILURE_TYPES),
            Ticket.state != TicketState.cancelled,
            Ticket.created_at >= start,
            Ticket.created_at < end,
        )
        .order_by(Ticket.asset_id, Ticket.created_at)
    )
    if site_id is not None:
        rows_q = rows_q.where(Asset.site_id == site_id)
    rows = session.execute(rows_q).all()
    rules = _alarm_rules(session, [r.source_ref for r in rows if r.source_ref])
    per_month: Counter[tuple[str, str]] = Counter()
    failures: Counter[str] = Counter()
    repair_hours: defaultdict[str, list[float]] = defaultdict(list)
    repeats: Counter[str] = Counter()
    causes: Counter[str] = Counter()
    last_seen: dict[tuple[int | None, str], datetime] = {}
    for asset_id, group_value, created, resolved, source_ref, kind in rows:
        group = _text(group_value)
        fault = _fault(kind, source_ref, rules)
        per_month[(created.strftime("%Y-%m"), group)] += 1
        failures[group] += 1
        causes[fault] += 1
        if resolved is not None:
            repair_hours[group].append((resolved - created).total_seconds() / 3600)
        previous = last_seen.get((asset_id, fault))
        if previous is not None and created - previous <= REPEAT_WITHIN:
            repeats[group] += 1
        last_seen[(asset_id, fault)] = created
    trend = [
        TrendRow(
            month, group, n, assets.get(group, 0), n / assets[group] if assets.get(group) else 0.0
        )
        for (month, group), n in sorted(per_month.items())
    ]
    hours = (end - start).total_seconds() / 3600
    groups = [
        GroupFigures(
            group,
            failures[group],
            count,
            hours * count / failures[group] if failures[group] else None,
            sum(repair_hours[group]) / len(repair_hours[group]) if repair_hours[group] else None,
            repeats[group],
        )
        for group, count in sorted(assets.items())
    ]
    return FailureReport(start, end, group_by, trend, groups, causes.most_common(top))


def _text(value: object) -> str:
    return str(getattr(value, "value", value))


def _alarm_rules(session: Session, refs: list[str]) -> dict[int, str]:
    ids = {
        int(ref.split(":")[1]) for ref in refs if ref.startswith("alarm:") and ref.count(":") == 2
    }
    if not ids:
        return {}
    rows = session.execute(select(Alarm.id, Alarm.rule_id).where(Alarm.id.in_(ids)))
    return {int(row[0]): str(row[1]) for row in rows}


def _fault(kind: TicketType, source_ref: str | None, rules: dict[int, str]) -> str:
    if kind is TicketType.alarm and source_ref and source_ref.startswith("alarm:"):
        try:
            return rules.get(int(source_ref.split(":")[1]), "alarm")
        except ValueError:
            return "alarm"
    return "repair" if kind is TicketType.repair else "alarm"

"""Service quality for a period against the targets of the service standards
(../shared/SERVICE_STANDARDS.md), each with its early-warning status.

Tickets count in the period they were opened. A due time counts once it is decided: met (done
by the due time), missed (done late, or still open past it); tickets still inside their time
are not counted yet. Cancelled tickets are left out.

| KPI | definition | target |
|---|---|---|
| response on time | responded by `response_due` | >= 95 % |
| resolution on time | resolved by `resolution_due` | >= 95 % |
| complaint handling on time | complaints answered (feedback) within their 24 h | >= 90 % |
| complaint rate | complaints among requests from people (repair, complaint, suggestion) | < 5 % |
| satisfied | ratings of 4 or 5 among rated tickets | >= 80 % |
| PM compliance | inspections due in the period done by their due time (in their window) | >= 95 % |

Early warning: a KPI within `WARNING_MARGIN` (5 points) of its target is `warning`, beyond the
target `below_target`, else `ok`. The complaint-rate target (annual, per household in the
standards) is read as a share of requests here: the ledger has no household count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from maintenance.errors import NotFound
from maintenance.plans.service import compliance
from maintenance.scope import Scope
from maintenance.vocabulary import TicketState, TicketType
from maintenance.work_orders.models import Ticket

WARNING_MARGIN = 0.05
Status = Literal["ok", "warning", "below_target", "no_data"]


@dataclass(frozen=True, slots=True)
class Kpi:
    name: str
    value: float | None  # a share, 0..1
    target: float
    higher_is_better: bool
    numerator: int
    denominator: int
    status: Status


@dataclass(frozen=True, slots=True)
class QualityReport:
    start: datetime
    end: datetime
    kpis: list[Kpi]
    average_rating: float | None


def _kpi(name: str, hits: int, total: int, target: float, higher_is_better: bool = True) -> Kpi:
    if total == 0:
        return Kpi(name, None, target, higher_is_better, hits, total, "no_data")
    value = hits / total
    gap = (value - target) if higher_is_better else (target - value)
    status: Status
    if higher_is_better:
        status = "below_target" if value < target else "warning" if gap < WARNING_MARGIN else "ok"
    else:
        status = "below_target" if value >= target else "warning" if gap < WARNING_MARGIN else "ok"
    return Kpi(name, value, target, higher_is_better, hits, total, status)


def _tickets_of(
    start: datetime, end: datetime, scope: Scope, site_id: int | None
) -> list[ColumnElement[bool]]:
    """The period's tickets in the caller's scope (a site outside it is not found)."""
    if site_id is not None and not scope.admits_site(site_id):
        raise NotFound("site", site_id)
    where = [
        Ticket.created_at >= start,
        Ticket.created_at < end,
        Ticket.state != TicketState.cancelled,
        scope.where(Ticket.site_id, Ticket.asset_id),
    ]
    if site_id is not None:
        where.append(Ticket.site_id == site_id)
    return where


def quality_report(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    scope: Scope,
    site_id: int | None = None,
) -> QualityReport:
    """The KPIs of the tickets in the caller's scope (and a site of it)."""
    where = _tickets_of(start, end, scope, site_id)
    responded_in_time = and_(
        Ticket.responded_at.is_not(None), Ticket.responded_at <= Ticket.response_due
    )
    response_decided = and_(
        Ticket.response_due.is_not(None),
        or_(Ticket.responded_at.is_not(None), Ticket.response_due < now),
    )
    resolved_in_time = and_(
        Ticket.resolved_at.is_not(None), Ticket.resolved_at <= Ticket.resolution_due
    )
    resolution_decided = and_(
        Ticket.resolution_due.is_not(None),
        or_(Ticket.resolved_at.is_not(None), Ticket.resolution_due < now),
    )
    complaint = Ticket.type == TicketType.complaint
    from_people = Ticket.type.in_((TicketType.repair, TicketType.complaint, TicketType.suggestion))
    row = session.execute(
        select(
            func.count().filter(response_decided, responded_in_time),
            func.count().filter(response_decided),
            func.count().filter(resolution_decided, resolved_in_time),
            func.count().filter(resolution_decided),
            func.count().filter(complaint, response_decided, responded_in_time),
            func.count().filter(complaint, response_decided),
            func.count().filter(complaint),
            func.count().filter(from_people),
            func.count().filter(Ticket.satisfaction >= 4),
            func.count().filter(Ticket.satisfaction.is_not(None)),
            func.avg(Ticket.satisfaction),
        ).where(*where)
    ).one()
    pm = compliance(session, start=start, end=end, now=now, scope=scope, site_id=site_id)
    pm_due = sum(c.due for c in pm if c.due)
    pm_decided = sum(c.on_time + c.early + c.late + c.open_overdue for c in pm)
    pm_on_time = sum(c.on_time for c in pm)
    kpis = [
        _kpi("response_on_time", row[0], row[1], 0.95),
        _kpi("resolution_on_time", row[2], row[3], 0.95),
        _kpi("complaint_handling_on_time", row[4], row[5], 0.90),
        _kpi("complaint_rate", row[6], row[7], 0.05, higher_is_better=False),
        _kpi("satisfied", row[8], row[9], 0.80),
        _kpi("pm_compliance", pm_on_time, pm_decided if pm_due else 0, 0.95),
    ]
    average = float(row[10]) if row[10] is not None else None
    return QualityReport(start, end, kpis, average)

"""Whether an alarm is announced: suppressed while a technician works on the asset or in a
maintenance window (never a life-safety alarm), an anomaly model's findings budget per asset,
and a site's flood of new alarms."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from maintenance.alarms.lifecycle import AlarmPolicy, in_flood
from maintenance.alarms.models import Alarm, AlarmFlood, AlarmTransitionRecord, MaintenanceWindow
from maintenance.vocabulary import PREDICTIVE_FAULT_PREFIX, TicketState, TicketType
from maintenance.work_orders.models import Ticket

ANOMALY_PREFIX = PREDICTIVE_FAULT_PREFIX  # an anomaly model's rule id (rules.scoring)
BUDGET_NOTE = "anomaly findings budget"
BUDGET_WINDOW = timedelta(days=7)
SUPPRESSING_TICKETS = (TicketType.inspection, TicketType.repair)


def suppression(session: Session, alarm: Alarm, at: datetime, policy: AlarmPolicy) -> str | None:
    """Why the asset's alarms are not to be announced now: a technician working on it on site
    (an inspection or repair in progress: a ticket only scheduled or assigned silences
    nothing), or a maintenance window; for an anomaly finding, the asset's findings budget
    spent. Never a life-safety alarm."""
    if alarm.asset_id is None or alarm.life_safety:
        return None
    if alarm.rule_id.startswith(ANOMALY_PREFIX) and alarm.raised_at is not None:
        earlier = anomaly_findings(session, alarm.asset_id, alarm.raised_at)
        if earlier >= policy.anomaly_findings_per_asset_week:
            return (
                f"{BUDGET_NOTE}: {earlier} findings on the asset in the 7 days before "
                f"(at most {policy.anomaly_findings_per_asset_week})"
            )
    ticket_q = (
        select(Ticket.id)
        .where(
            Ticket.asset_id == alarm.asset_id,
            Ticket.type.in_(SUPPRESSING_TICKETS),
            Ticket.state == TicketState.in_progress,
        )
        .limit(1)
        .scalar_subquery()
    )
    window_q = (
        select(MaintenanceWindow.id)
        .where(
            MaintenanceWindow.asset_id == alarm.asset_id,
            MaintenanceWindow.starts_at <= at,
            MaintenanceWindow.ends_at > at,
        )
        .limit(1)
        .scalar_subquery()
    )
    ticket, window = session.execute(select(ticket_q, window_q)).one()  # one round trip
    if ticket is not None:
        return f"work in progress on the asset: ticket {ticket}"
    if window is not None:
        return f"asset under maintenance: window {window}"
    return None


def anomaly_findings(session: Session, asset_id: int, before: datetime) -> int:
    """New anomaly findings (occurrences of anomaly alarms) on the asset in the 7 days before
    `before`."""
    count = session.scalar(
        select(func.count())
        .select_from(AlarmTransitionRecord)
        .join(Alarm, Alarm.id == AlarmTransitionRecord.alarm_id)
        .where(
            Alarm.asset_id == asset_id,
            Alarm.rule_id.startswith(ANOMALY_PREFIX),
            AlarmTransitionRecord.new_occurrence.is_(True),
            AlarmTransitionRecord.at >= before - BUDGET_WINDOW,
            AlarmTransitionRecord.at < before,
        )
    )
    return int(count or 0)


def new_alarms(site: str, at: datetime, policy: AlarmPolicy) -> Select[int]:
    """How many new alarms the site had in the flood window before `at`."""
    since = at - timedelta(milliseconds=policy.flood_window_ms)
    return select(func.count()).where(
        AlarmTransitionRecord.site == site,
        AlarmTransitionRecord.new_occurrence.is_(True),
        AlarmTransitionRecord.at > since,
    )


def flood(session: Session, alarm: Alarm, at: datetime, policy: AlarmPolicy) -> int | None:
    """Counts this new alarm against its site's window; in flood, the alarm joins the group."""
    count_q = new_alarms(alarm.site, at, policy).scalar_subquery()
    open_q = (
        select(AlarmFlood.id)
        .where(AlarmFlood.site == alarm.site, AlarmFlood.ended_at.is_(None))
        .limit(1)
        .scalar_subquery()
    )
    recent, flood_id = session.execute(select(count_q, open_q)).one()  # one round trip
    flood = session.get(AlarmFlood, flood_id) if flood_id is not None else None
    if flood is None:
        if not in_flood((recent or 0) + 1, policy):
            return None
        flood = AlarmFlood(site=alarm.site, started_at=at, alarm_count=0)
        session.add(flood)
        session.flush()
    flood.alarm_count += 1
    return flood.id

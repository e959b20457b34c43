"""Learning from technicians: when a predictive inspection is resolved, its verdict ("no fault
found" or a confirmed fault) is kept for each anomaly finding that opened or joined it, with the
window the finding covered. Retraining reads them back as feedback (a false finding's window is
normal from then on, a confirmed one's never trained on), and the reports count them per model
and device type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from maintenance.alarms.models import Alarm, AlarmTransitionRecord, FindingReview
from maintenance.alarms.tickets import is_anomaly, ticket_alarms
from maintenance.alarms.transitions import to_ms
from maintenance.scope import Scope
from maintenance.vocabulary import Finding
from maintenance.work_orders.models import Ticket
from rules.feedback import Feedback

# A finding's occurrence is raised a moment before its ticket is opened.
_RAISED_BEFORE_TICKET = timedelta(minutes=10)


def review(session: Session, ticket: Ticket, *, now: datetime, by: str) -> list[FindingReview]:
    """The ticket's verdict on its findings, as it stands after a transition: recorded when it
    is resolved with one, withdrawn when it is reopened or rejected (judged again later)."""
    session.execute(delete(FindingReview).where(FindingReview.ticket_id == ticket.id))
    if ticket.finding is None:
        return []
    out = []
    for alarm in ticket_alarms(session, ticket.id):
        if not is_anomaly(alarm.rule_id):
            continue
        start, end = _window(session, alarm, ticket, now)
        row = FindingReview(
            ticket_id=ticket.id,
            alarm_id=alarm.id,
            site=alarm.site,
            system=alarm.system,
            device_id=alarm.device_id,
            model=str((alarm.values or {}).get("model", alarm.rule_id))[:120],
            verdict=ticket.finding,
            window_start=start,
            window_end=end,
            reviewed_at=now,
            reviewed_by=by,
        )
        session.add(row)
        out.append(row)
    return out


def _window(
    session: Session, alarm: Alarm, ticket: Ticket, now: datetime
) -> tuple[datetime, datetime]:
    """From the first occurrence that opened or joined the ticket to the alarm's last return
    to normal since (now, if it is still active)."""
    trail = AlarmTransitionRecord
    start = session.scalar(
        select(func.min(trail.at)).where(
            trail.alarm_id == alarm.id,
            trail.new_occurrence.is_(True),
            trail.at >= ticket.created_at - _RAISED_BEFORE_TICKET,
        )
    ) or (alarm.raised_at or ticket.created_at)
    end = now
    if not alarm.state.active:
        cleared = session.scalar(
            select(func.max(trail.at)).where(
                trail.alarm_id == alarm.id, trail.action == "clear", trail.at >= start
            )
        )
        end = min(cleared or now, now)
    return start, max(start, end)


def feedback(session: Session) -> Feedback:
    """Every verdict so far, as the training takes it."""
    out = Feedback()
    for r in session.scalars(select(FindingReview).order_by(FindingReview.id)):
        windows = out.normal if r.verdict == Finding.no_fault_found else out.faulty
        key = (r.site, r.system, r.device_id)
        windows.setdefault(key, []).append((to_ms(r.window_start), to_ms(r.window_end)))
    return out


@dataclass(frozen=True, slots=True)
class FindingCount:
    model: str  # "<key> v<version>"; for a device type's total, the type
    system: str
    confirmed: int
    no_fault_found: int


def counts(
    session: Session,
    *,
    scope: Scope,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[FindingCount], list[FindingCount]]:
    """Verdicts reviewed in [since, until): per model, and per device type; of the alarms in
    the caller's scope."""
    r = FindingReview
    confirmed = func.sum(case((r.verdict == Finding.confirmed.value, 1), else_=0))
    false = func.sum(case((r.verdict == Finding.no_fault_found.value, 1), else_=0))
    where: list[ColumnElement[bool]] = []
    if not scope.everything:
        where.append(
            r.alarm_id.in_(select(Alarm.id).where(scope.where(Alarm.site_id, Alarm.asset_id)))
        )
    if since is not None:
        where.append(r.reviewed_at >= since)
    if until is not None:
        where.append(r.reviewed_at < until)
    per_model = [
        FindingCount(model, system, int(c or 0), int(f or 0))
        for model, system, c, f in session.execute(
            select(r.model, r.system, confirmed, false)
            .where(*where)
            .group_by(r.model, r.system)
            .order_by(r.system, r.model)
        )
    ]
    per_type = [
        FindingCount(system, system, int(c or 0), int(f or 0))
        for system, c, f in session.execute(
            select(r.system, confirmed, false).where(*where).group_by(r.system).order_by(r.system)
        )
    ]
    return per_model, per_type

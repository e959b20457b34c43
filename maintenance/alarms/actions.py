"""What people do to alarms: acknowledge, reset a latched event, shelve and unshelve."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from maintenance.alarms.lifecycle import AlarmAction, AlarmPolicy, next_state
from maintenance.alarms.models import Alarm
from maintenance.alarms.transitions import AlarmTransition, record
from maintenance.errors import InvalidInput
from maintenance.storage.db import get_required


def acknowledge(
    session: Session, alarm_id: int, *, by: str, now: datetime, note: str = ""
) -> AlarmTransition:
    alarm = get_required(session, Alarm, alarm_id, "alarm")
    before = alarm.state
    alarm.state = next_state(before, AlarmAction.acknowledge) or before
    alarm.acknowledged_at, alarm.acknowledged_by = now, by
    return record(session, alarm, action="acknowledge", before=before, at=now, actor=by, note=note)


def reset(
    session: Session, alarm_id: int, *, by: str, reason: str, now: datetime
) -> AlarmTransition:
    """A person returns a latched event alarm to normal (the breaker is closed again, the leak
    dried up): only event alarms, whose device may never send a clear; a measured condition
    clears by itself when it ends."""
    alarm = get_required(session, Alarm, alarm_id, "alarm")
    if not alarm.resettable:
        raise InvalidInput("alarm_id", "only event alarms are reset; this one clears by itself")
    if not reason.strip():
        raise InvalidInput("reason", "say why the alarm is reset")
    before = alarm.state
    target = next_state(before, AlarmAction.reset)
    assert target is not None  # next_state refuses a reset it does not allow
    alarm.state, alarm.cleared_at = target, now
    if alarm.acknowledged_at is None:
        alarm.acknowledged_at, alarm.acknowledged_by = now, by
    alarm.clear_held = False
    return record(session, alarm, action="reset", before=before, at=now, actor=by, note=reason)


def shelve(
    session: Session,
    alarm_id: int,
    *,
    by: str,
    reason: str,
    minutes: float,
    now: datetime,
    policy: AlarmPolicy,
) -> AlarmTransition:
    alarm = get_required(session, Alarm, alarm_id, "alarm")
    limit = policy.shelve_max_ms / 60_000
    if not 0 < minutes <= limit:
        raise InvalidInput("minutes", f"shelve for more than 0 and at most {limit:g} minutes")
    if not reason.strip():
        raise InvalidInput("reason", "a shelved alarm needs a reason")
    alarm.shelved_until = now + timedelta(minutes=minutes)
    alarm.shelved_by, alarm.shelve_reason = by, reason
    note = f"until {alarm.shelved_until.isoformat()}: {reason}"
    return record(session, alarm, action="shelve", before=alarm.state, at=now, actor=by, note=note)


def unshelve(session: Session, alarm_id: int, *, by: str, now: datetime) -> AlarmTransition:
    alarm = get_required(session, Alarm, alarm_id, "alarm")
    if alarm.shelved_until is None:
        raise InvalidInput("alarm_id", f"alarm {alarm_id} is not shelved")
    return unshelve_by(session, alarm, by, now)


def unshelve_by(session: Session, alarm: Alarm, actor: str, now: datetime) -> AlarmTransition:
    alarm.shelved_until = alarm.shelved_by = alarm.shelve_reason = None
    return record(session, alarm, action="unshelve", before=alarm.state, at=now, actor=actor)

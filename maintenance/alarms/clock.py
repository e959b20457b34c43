"""What time does to alarms: shelves expire, chattering calms down (a held clear goes through),
suppression ends on alarms still active, floods recede."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from maintenance.alarms.actions import unshelve_by
from maintenance.alarms.lifecycle import (
    AlarmAction,
    AlarmPolicy,
    chatter_over,
    in_flood,
    next_state,
)
from maintenance.alarms.models import Alarm, AlarmFlood
from maintenance.alarms.suppression import new_alarms, suppression
from maintenance.alarms.transitions import ACTIVE_STATES, AlarmTransition, record, to_ms


def tick(session: Session, *, policy: AlarmPolicy, now: datetime) -> list[AlarmTransition]:
    """Shelves that expired, chattering that calmed down (a held clear goes through), suppression
    that ended on alarms still active, floods that receded."""
    out: list[AlarmTransition] = []
    for alarm in session.scalars(select(Alarm).where(Alarm.shelved_until <= now)):
        out.append(unshelve_by(session, alarm, "clock", now))
    for alarm in session.scalars(select(Alarm).where(Alarm.chattering.is_(True))):
        last = alarm.last_raise_at or alarm.updated_at
        if not chatter_over(to_ms(last), to_ms(now), policy):
            continue
        alarm.chattering = False
        before = alarm.state
        if alarm.clear_held:
            alarm.clear_held = False
            alarm.state, alarm.cleared_at = next_state(before, AlarmAction.clear) or before, now
            out.append(
                record(
                    session,
                    alarm,
                    action="clear",
                    before=before,
                    at=now,
                    actor="clock",
                    note="held clear released: chattering over",
                )
            )
        else:
            out.append(
                record(session, alarm, action="chatter_over", before=before, at=now, actor="clock")
            )
    suppressed = session.scalars(
        select(Alarm).where(Alarm.suppressed_by.is_not(None), Alarm.state.in_(ACTIVE_STATES))
    )
    for alarm in suppressed:
        if suppression(session, alarm, now, policy) is None:
            alarm.suppressed_by = None
            out.append(
                record(
                    session, alarm, action="unsuppress", before=alarm.state, at=now, actor="clock"
                )
            )
    for flood in session.scalars(select(AlarmFlood).where(AlarmFlood.ended_at.is_(None))):
        recent = session.scalar(new_alarms(flood.site, now, policy))
        if not in_flood(recent or 0, policy):
            flood.ended_at = now
    return out

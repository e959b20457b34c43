"""The rule engine's condition changes applied to the alarms they concern: a raise starts an
occurrence (suppressed, chattering or in flood as the state of things says), a clear ends it
(held while the alarm chatters). Runs inside the caller's transaction."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from maintenance.alarms.lifecycle import (
    AlarmAction,
    AlarmPolicy,
    AlarmState,
    is_chattering,
    next_state,
)
from maintenance.alarms.models import Alarm, AlarmTransitionRecord
from maintenance.alarms.suppression import BUDGET_NOTE, flood, suppression
from maintenance.alarms.transitions import AlarmTransition, ms_to_datetime, record, to_ms
from maintenance.assets.models import AssetDevice, Site
from rules.engine import ConditionChange

log = logging.getLogger(__name__)


def apply_changes(
    session: Session, changes: list[ConditionChange], *, policy: AlarmPolicy, now: datetime
) -> list[AlarmTransition]:
    out: list[AlarmTransition] = []
    ledger: dict[tuple[str, str], tuple[int | None, int | None]] = {}
    for change in changes:
        alarm = _alarm_for(session, change, ledger, now)
        at = ms_to_datetime(change.at_ms)
        if change.change == "raise":
            out += _raise(session, alarm, change, at, policy)
        else:
            out += _clear(session, alarm, change, at)
    return out


def _alarm_for(
    session: Session,
    change: ConditionChange,
    ledger: dict[tuple[str, str], tuple[int | None, int | None]],
    now: datetime,
) -> Alarm:
    d = change.device
    alarm = session.scalar(
        select(Alarm).where(
            Alarm.site == d.site, Alarm.device_id == d.device_id, Alarm.rule_id == change.rule_id
        )
    )
    if alarm is not None:
        return alarm
    if (d.site, d.device_id) not in ledger:
        row = session.execute(
            select(Site.id, AssetDevice.asset_id)
            .select_from(Site)
            .outerjoin(
                AssetDevice,
                (AssetDevice.site_id == Site.id) & (AssetDevice.device_id == d.device_id),
            )
            .where(Site.code == d.site)
        ).first()
        ledger[(d.site, d.device_id)] = (row[0], row[1]) if row else (None, None)
    site_id, asset_id = ledger[(d.site, d.device_id)]
    alarm = Alarm(
        site=d.site,
        system=d.system,
        device_id=d.device_id,
        rule_id=change.rule_id,
        site_id=site_id,
        asset_id=asset_id,
        severity=change.severity,
        message=change.message,
        state=AlarmState.normal,
        occurrences=0,
        values={},
        chattering=False,
        clear_held=False,
        updated_at=now,
    )
    session.add(alarm)
    session.flush()
    return alarm


def _raise(
    session: Session, alarm: Alarm, change: ConditionChange, at: datetime, policy: AlarmPolicy
) -> list[AlarmTransition]:
    before = alarm.state
    alarm.values = dict(change.values)
    alarm.severity, alarm.message = change.severity, change.message
    alarm.life_safety, alarm.resettable = change.life_safety, change.resettable
    out: list[AlarmTransition] = []
    target = next_state(before, AlarmAction.raise_)
    if target is None:
        if not alarm.clear_held:
            return []  # a repeat of an active alarm: deduplicated
        alarm.clear_held = False
        note = "raised again while its clear was held (chattering)"
        alarm.last_raise_at = at
        return [
            record(session, alarm, action="raise", before=before, at=at, actor="rules", note=note)
        ]
    window = timedelta(milliseconds=policy.chatter_window_ms)
    earlier: list[datetime] = []
    if alarm.last_raise_at is not None and at - alarm.last_raise_at < window:
        earlier = list(
            session.scalars(
                select(AlarmTransitionRecord.at).where(
                    AlarmTransitionRecord.alarm_id == alarm.id,
                    AlarmTransitionRecord.action == "raise",
                    AlarmTransitionRecord.at > at - window,
                )
            )
        )
    alarm.state = target
    alarm.raised_at, alarm.cleared_at, alarm.last_raise_at = at, None, at
    alarm.acknowledged_at = alarm.acknowledged_by = None
    alarm.occurrences += 1
    alarm.suppressed_by = suppression(session, alarm, at, policy)
    if alarm.suppressed_by and alarm.suppressed_by.startswith(BUDGET_NOTE):
        log.warning(
            "anomaly model %s is over the findings budget on asset %s: %s",
            (alarm.values or {}).get("model", alarm.rule_id),
            alarm.asset_id,
            alarm.suppressed_by,
        )
    alarm.flood_id = flood(session, alarm, at, policy)
    at_ms = to_ms(at)
    raises = [*(to_ms(t) for t in earlier), at_ms]
    if not alarm.chattering and is_chattering(raises, at_ms, policy):
        alarm.chattering = True
    out.append(
        record(
            session, alarm, action="raise", before=before, at=at, actor="rules", new_occurrence=True
        )
    )
    return out


def _clear(
    session: Session, alarm: Alarm, change: ConditionChange, at: datetime
) -> list[AlarmTransition]:
    before = alarm.state
    if change.values:
        alarm.values = {**(alarm.values or {}), **change.values}
    if alarm.chattering and before.active:
        if alarm.clear_held:
            return []
        alarm.clear_held = True
        note = "clear held: the alarm is chattering"
        return [
            record(
                session, alarm, action="clear_held", before=before, at=at, actor="rules", note=note
            )
        ]
    target = next_state(before, AlarmAction.clear)
    if target is None:
        return []
    alarm.state, alarm.cleared_at = target, at
    return [record(session, alarm, action="clear", before=before, at=at, actor="rules")]

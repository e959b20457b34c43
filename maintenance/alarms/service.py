"""Alarm records: rule engine changes in, ISA-18.2 transitions out, every one persisted with who,
when and the values behind it. People acknowledge and shelve; the clock ends shelving,
chattering, floods and suppression (`tick`). Runs inside the caller's transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from maintenance.alarms.models import Alarm, AlarmEvent, AlarmFlood, MaintenanceWindow
from maintenance.assets.models import AssetDevice, Site
from maintenance.errors import InvalidInput
from maintenance.storage.db import get_required
from maintenance.vocabulary import TicketState, TicketType
from maintenance.work_orders.models import Ticket
from rules.alarms import (
    AlarmAction,
    AlarmPolicy,
    AlarmState,
    chatter_over,
    in_flood,
    is_chattering,
    next_state,
)
from rules.engine import AlarmChange

log = logging.getLogger(__name__)
ANOMALY_PREFIX = "anomaly:"
BUDGET_NOTE = "anomaly findings budget"
BUDGET_WINDOW = timedelta(days=7)

SUPPRESSING_TICKETS = (TicketType.inspection, TicketType.repair)
ACTIVE_STATES = tuple(state for state in AlarmState if state.active)


@dataclass(frozen=True, slots=True)
class AlarmTransition:
    """What listeners (the console's live stream, MQTT, tickets) are told about an alarm."""

    alarm_id: int
    site: str
    system: str
    device_id: str
    rule_id: str
    asset_id: int | None
    severity: str
    message: str
    action: str  # raise, clear, acknowledge, shelve, unshelve, suppress, unsuppress, ticket, ...
    from_state: str
    to_state: str
    at: datetime
    actor: str
    new_occurrence: bool = False
    values: dict[str, Any] = field(default_factory=dict)
    shelved: bool = False
    suppressed: bool = False
    chattering: bool = False
    flood_id: int | None = None
    ticket_id: int | None = None
    note: str = ""


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def to_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def record(
    session: Session,
    alarm: Alarm,
    *,
    action: str,
    before: AlarmState,
    at: datetime,
    actor: str,
    new_occurrence: bool = False,
    note: str = "",
) -> AlarmTransition:
    alarm.updated_at = at
    session.add(
        AlarmEvent(
            alarm_id=alarm.id,
            site=alarm.site,
            at=at,
            actor=actor,
            action=action,
            from_state=before.value,
            to_state=alarm.state.value,
            new_occurrence=new_occurrence,
            values=dict(alarm.values or {}),
            note=note,
        )
    )
    return transition_of(alarm, action, before, at, actor, new_occurrence=new_occurrence, note=note)


def transition_of(
    alarm: Alarm,
    action: str,
    before: AlarmState,
    at: datetime,
    actor: str,
    *,
    new_occurrence: bool = False,
    note: str = "",
) -> AlarmTransition:
    return AlarmTransition(
        alarm_id=alarm.id,
        site=alarm.site,
        system=alarm.system,
        device_id=alarm.device_id,
        rule_id=alarm.rule_id,
        asset_id=alarm.asset_id,
        severity=alarm.severity,
        message=alarm.message,
        action=action,
        from_state=before.value,
        to_state=alarm.state.value,
        at=at,
        actor=actor,
        new_occurrence=new_occurrence,
        values=dict(alarm.values or {}),
        shelved=alarm.shelved_until is not None,
        suppressed=alarm.suppressed_by is not None,
        chattering=alarm.chattering,
        flood_id=alarm.flood_id,
        ticket_id=alarm.ticket_id,
        note=note,
    )


# -- the stream ------------------------------------------------------------------------------


def apply_changes(
    session: Session, changes: list[AlarmChange], *, policy: AlarmPolicy, now: datetime
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
    change: AlarmChange,
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
    session: Session, alarm: Alarm, change: AlarmChange, at: datetime, policy: AlarmPolicy
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
                select(AlarmEvent.at).where(
                    AlarmEvent.alarm_id == alarm.id,
                    AlarmEvent.action == "raise",
                    AlarmEvent.at > at - window,
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
    alarm.flood_id = _flood(session, alarm, at, policy)
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
    session: Session, alarm: Alarm, change: AlarmChange, at: datetime
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
        .select_from(AlarmEvent)
        .join(Alarm, Alarm.id == AlarmEvent.alarm_id)
        .where(
            Alarm.asset_id == asset_id,
            Alarm.rule_id.startswith(ANOMALY_PREFIX),
            AlarmEvent.new_occurrence.is_(True),
            AlarmEvent.at >= before - BUDGET_WINDOW,
            AlarmEvent.at < before,
        )
    )
    return int(count or 0)


def _new_alarms(site: str, at: datetime, policy: AlarmPolicy) -> Select[int]:
    """How many new alarms the site had in the flood window before `at`."""
    since = at - timedelta(milliseconds=policy.flood_window_ms)
    return select(func.count()).where(
        AlarmEvent.site == site, AlarmEvent.new_occurrence.is_(True), AlarmEvent.at > since
    )


def _flood(session: Session, alarm: Alarm, at: datetime, policy: AlarmPolicy) -> int | None:
    """Counts this new alarm against its site's window; in flood, the alarm joins the group."""
    count_q = _new_alarms(alarm.site, at, policy).scalar_subquery()
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


# -- people ----------------------------------------------------------------------------------


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
    return _unshelve(session, alarm, by, now)


def _unshelve(session: Session, alarm: Alarm, actor: str, now: datetime) -> AlarmTransition:
    alarm.shelved_until = alarm.shelved_by = alarm.shelve_reason = None
    return record(session, alarm, action="unshelve", before=alarm.state, at=now, actor=actor)


# -- the clock -------------------------------------------------------------------------------


def tick(session: Session, *, policy: AlarmPolicy, now: datetime) -> list[AlarmTransition]:
    """Shelves that expired, chattering that calmed down (a held clear goes through), suppression
    that ended on alarms still active, floods that receded."""
    out: list[AlarmTransition] = []
    for alarm in session.scalars(select(Alarm).where(Alarm.shelved_until <= now)):
        out.append(_unshelve(session, alarm, "clock", now))
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
        recent = session.scalar(_new_alarms(flood.site, now, policy))
        if not in_flood(recent or 0, policy):
            flood.ended_at = now
    return out

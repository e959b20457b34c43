"""An alarm transition: one alarm moved by one action (raise, clear, acknowledge, shelve, ...),
recorded in its trail (`AlarmTransitionRecord`) and told to listeners (`AlarmTransition`).

The alarm stage's words: the rule engine decides a `ConditionChange` (a rule's condition on a
device became active or ended); applied to the alarm it becomes an `AlarmTransition`; the trail
keeps each as an `AlarmTransitionRecord`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from maintenance.alarms.lifecycle import AlarmState
from maintenance.alarms.models import Alarm, AlarmTransitionRecord

ACTIVE_STATES = tuple(state for state in AlarmState if state.active)
# What the trail keeps of a transition (besides its values): the alarm's own fields are its row.
RECORDED = (
    "alarm_id",
    "site",
    "at",
    "actor",
    "action",
    "from_state",
    "to_state",
    "new_occurrence",
    "note",
)


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
    """The transition the alarm just made, kept in its trail; answers it for the listeners."""
    alarm.updated_at = at
    done = transition_of(alarm, action, before, at, actor, new_occurrence=new_occurrence, note=note)
    kept = {name: getattr(done, name) for name in RECORDED}
    session.add(AlarmTransitionRecord(**kept, values=dict(done.values)))
    return done


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

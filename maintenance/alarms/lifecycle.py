"""The alarm lifecycle of ISA-18.2, as pure decisions (the records are `models` and `transitions`).

An alarm is one (device, rule). Its state combines whether the condition is active with whether
a person has acknowledged it:

    normal --raise--> active_unacknowledged --acknowledge--> active_acknowledged
      ^                    | clear                                 | clear
      |                    v                                       |
      +--acknowledge-- cleared_unacknowledged                      |
      +------------------------------------------------------------+

`cleared_unacknowledged` is "returned to normal before anyone acknowledged"; raising again from
there starts a new occurrence. A latched event (one its device never clears) returns to normal
by a person's `reset`, with a reason. Shelving, suppression, chattering and flood are flags
beside the state: they change who is told and whether a ticket opens, never what is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

SEVERITIES = ("critical", "major", "minor", "warning")  # most severe first


class AlarmState(StrEnum):
    normal = "normal"
    active_unacknowledged = "active_unacknowledged"
    active_acknowledged = "active_acknowledged"
    cleared_unacknowledged = "cleared_unacknowledged"

    @property
    def active(self) -> bool:
        return self in (AlarmState.active_unacknowledged, AlarmState.active_acknowledged)

    @property
    def standing(self) -> bool:
        """Still needs a person: active, or returned to normal unacknowledged."""
        return self is not AlarmState.normal


class AlarmAction(StrEnum):
    raise_ = "raise"
    clear = "clear"
    acknowledge = "acknowledge"
    reset = "reset"  # a person clears a latched event (a tripped breaker closed again)


_NEXT: dict[tuple[AlarmState, AlarmAction], AlarmState] = {
    (AlarmState.normal, AlarmAction.raise_): AlarmState.active_unacknowledged,
    (AlarmState.cleared_unacknowledged, AlarmAction.raise_): AlarmState.active_unacknowledged,
    (AlarmState.active_unacknowledged, AlarmAction.clear): AlarmState.cleared_unacknowledged,
    (AlarmState.active_acknowledged, AlarmAction.clear): AlarmState.normal,
    (AlarmState.active_unacknowledged, AlarmAction.acknowledge): AlarmState.active_acknowledged,
    (AlarmState.cleared_unacknowledged, AlarmAction.acknowledge): AlarmState.normal,
    (AlarmState.active_unacknowledged, AlarmAction.reset): AlarmState.normal,
    (AlarmState.active_acknowledged, AlarmAction.reset): AlarmState.normal,
}


class AlarmActionNotAllowed(ValueError):
    def __init__(self, state: AlarmState, action: AlarmAction) -> None:
        self.state, self.action = state, action
        self.allowed = allowed_actions(state)
        super().__init__(f"cannot {action.value} an alarm that is {state.value}")


def allowed_actions(state: AlarmState) -> list[AlarmAction]:
    return [action for (s, action) in _NEXT if s is state]


def next_state(state: AlarmState, action: AlarmAction) -> AlarmState | None:
    """The state after `action`; None when the stream repeats itself (a raise of an active
    alarm, a clear of one that is not): deduplicated, not an error."""
    target = _NEXT.get((state, action))
    if target is None and action in (AlarmAction.acknowledge, AlarmAction.reset):
        raise AlarmActionNotAllowed(state, action)
    return target


def severity_rank(severity: str) -> int:
    """0 = critical; unknown severities rank below warning."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


@dataclass(frozen=True, slots=True)
class AlarmPolicy:
    """The numbers of alarm management; every one is a setting (FACILITY_ALARM_*)."""

    chatter_raises: int = 3  # this many raises ...
    chatter_window_ms: int = 60_000  # ... within this window mark an alarm chattering
    flood_alarms: int = 10  # more than this many new alarms ...
    flood_window_ms: int = 600_000  # ... in this window put a site in flood
    shelve_max_ms: int = 8 * 3_600_000  # a person may shelve for at most this long
    ticket_min_severity: str = "major"  # alarms at or above this open tickets
    # anomaly findings on one asset in 7 days beyond which more are recorded but announced to
    # no one and open no inspection (each is a technician sent out)
    anomaly_findings_per_asset_week: int = 3

    def opens_ticket(self, severity: str) -> bool:
        return severity_rank(severity) <= severity_rank(self.ticket_min_severity)


def is_chattering(raise_times_ms: Sequence[int], at_ms: int, policy: AlarmPolicy) -> bool:
    """Raises of one alarm (including the one at `at_ms`) that come too often."""
    recent = [t for t in raise_times_ms if at_ms - policy.chatter_window_ms < t <= at_ms]
    return len(recent) >= policy.chatter_raises


def chatter_over(last_raise_ms: int, now_ms: int, policy: AlarmPolicy) -> bool:
    """A chattering alarm is released once it has not raised for a whole window."""
    return now_ms - last_raise_ms >= policy.chatter_window_ms


def in_flood(new_alarms_in_window: int, policy: AlarmPolicy) -> bool:
    return new_alarms_in_window > policy.flood_alarms

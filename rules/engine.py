"""Evaluates rules on the live stream and on the clock; answers the alarm changes it decides.

Rules with delays (threshold, rate, composite) keep, per (rule, device), whether the alarm is
active and since when the condition has held (or stopped holding), so on- and off-delays are
honoured both when the next reading arrives and, through `tick(now)`, when none does. Offline
rules fire on a status `offline` (the last will) or when telemetry is older than their limit.
Delays are measured in telemetry time (the readings' own timestamps).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ingest.catalogue import SYSTEMS
from ingest.readings import DeviceEvent, DeviceKey, DeviceStatus, Reading
from rules.model import (
    CompositeRule,
    DelayedRule,
    EventRule,
    OfflineRule,
    RateRule,
    Rule,
    ThresholdRule,
)

Values = dict[str, float | bool | str]


@dataclass(frozen=True, slots=True)
class ConditionChange:
    rule_id: str
    device: DeviceKey
    change: Literal["raise", "clear"]
    at_ms: int
    severity: str
    message: str
    values: Values = field(default_factory=dict)
    life_safety: bool = False
    resettable: bool = False  # an event: a person may reset it


@dataclass(slots=True)
class _State:
    active: bool = False
    since_ms: int | None = None  # condition changed at (pending raise or pending clear)
    values: Values = field(default_factory=dict)  # the latest values the rule looked at
    last_seen_ms: int | None = None
    window: deque[tuple[int, float]] = field(default_factory=deque)  # rate rules


class RuleEngine:
    def __init__(self, rules: Sequence[Rule]) -> None:
        self._state: dict[tuple[str, DeviceKey], _State] = {}
        self._set_rules(rules)

    def _set_rules(self, rules: Sequence[Rule]) -> None:
        self.rules = list(rules)
        self._by_id = {rule.id: rule for rule in self.rules}
        self._by_system: dict[str, list[Rule]] = defaultdict(list)
        for system in SYSTEMS:
            self._by_system[system] = [r for r in self.rules if r.system in (None, system)]

    def rule(self, rule_id: str) -> Rule | None:
        """The rule in force with this id (its texts for the pages and notifications)."""
        return self._by_id.get(rule_id)

    def replace_rules(self, rules: Sequence[Rule], now_ms: int) -> list[ConditionChange]:
        """Swap in a new rule set (a reload). State of rules that stay (same id and definition)
        is kept; alarms of rules that went away or changed are cleared."""
        kept = {r.id for r in rules if self._by_id.get(r.id) == r}
        out: list[ConditionChange] = []
        for (rule_id, device), state in list(self._state.items()):
            if rule_id in kept:
                continue
            old = self._by_id[rule_id]
            if state.active:
                out.append(
                    self._change(old, device, state, "clear", now_ms, {"reason": "rule changed"})
                )
            del self._state[(rule_id, device)]
        self._set_rules(rules)
        return out

    def _for(self, rule: Rule, device: DeviceKey) -> _State:
        key = (rule.id, device)
        state = self._state.get(key)
        if state is None:
            state = self._state[key] = _State()
        return state

    def active(self) -> set[tuple[str, DeviceKey]]:
        return {key for key, state in self._state.items() if state.active}

    def restore(
        self, active: Iterable[tuple[str, DeviceKey]], last_seen: Iterable[tuple[DeviceKey, int]]
    ) -> None:
        """Start from what was true before a restart: the alarms that are active (so that a return
        to normal clears them) and when each device last reported (so silence still counts)."""
        for rule_id, device in active:
            rule = self._by_id.get(rule_id)
            if rule is not None:
                self._for(rule, device).active = True
        for device, seen_ms in last_seen:
            for rule in self._by_system[device.system]:
                if isinstance(rule, OfflineRule) and rule.covers(*_where(device)):
                    state = self._for(rule, device)
                    state.last_seen_ms = max(state.last_seen_ms or 0, seen_ms)

    # -- the stream --------------------------------------------------------------------------

    def on_reading(self, reading: Reading, received_ms: int | None = None) -> list[ConditionChange]:
        """`received_ms`: when the service got it. Silence (offline rules) is measured on the
        service's clock, so a device with a skewed clock or a backlog being drained after an
        outage is not taken for silent; delays are measured in telemetry time."""
        out: list[ConditionChange] = []
        d = reading.device
        metrics = reading.metrics
        for rule in self._by_system[d.system]:
            if not rule.covers(*_where(d)):
                continue
            if isinstance(rule, ThresholdRule):
                value = metrics.get(rule.metric)
                if isinstance(value, float):
                    state = self._for(rule, d)
                    state.values = {rule.metric: value}
                    held = rule.breached(value, state.active)
                    out += self._delayed(rule, d, state, held, reading.ts_ms)
            elif isinstance(rule, RateRule):
                value = metrics.get(rule.metric)
                if isinstance(value, float):
                    out += self._rate(rule, d, value, reading.ts_ms)
            elif isinstance(rule, CompositeRule):
                seen = {m: v for m, v in metrics.items() if m in rule.metrics}
                if seen:
                    state = self._for(rule, d)
                    state.values.update(seen)
                    latest = {m: v for m, v in state.values.items() if isinstance(v, float)}
                    held = rule.breached(latest, state.active)
                    out += self._delayed(rule, d, state, held, reading.ts_ms)
            elif isinstance(rule, OfflineRule):
                state = self._for(rule, d)
                seen_ms = reading.ts_ms if received_ms is None else received_ms
                state.last_seen_ms = max(state.last_seen_ms or 0, seen_ms)
                if state.active:
                    out.append(self._change(rule, d, state, "clear", seen_ms, {}))
        return out

    def on_event(self, event: DeviceEvent) -> list[ConditionChange]:
        out: list[ConditionChange] = []
        d = event.device
        for rule in self._by_system[d.system]:
            if not isinstance(rule, EventRule) or not rule.covers(*_where(d)):
                continue
            state = self._for(rule, d)
            values: Values = {"code": event.code}
            if event.code in rule.codes:
                # Every occurrence goes on, active or not: a person may have reset the alarm
                # (in another process) since, and the records deduplicate repeats.
                out.append(self._change(rule, d, state, "raise", event.ts_ms, values))
                state.since_ms = event.ts_ms  # a self-clearing event's hold starts again
            elif event.code in rule.clear_codes and state.active:
                out.append(self._change(rule, d, state, "clear", event.ts_ms, values))
        return out

    def on_status(self, status: DeviceStatus) -> list[ConditionChange]:
        out: list[ConditionChange] = []
        d = status.device
        for rule in self._by_system[d.system]:
            if not isinstance(rule, OfflineRule) or not rule.covers(*_where(d)):
                continue
            state = self._for(rule, d)
            if not status.online and not state.active:
                out.append(
                    self._change(rule, d, state, "raise", status.received_ms, {"status": "offline"})
                )
            elif status.online and state.active:
                state.last_seen_ms = status.received_ms
                out.append(
                    self._change(rule, d, state, "clear", status.received_ms, {"status": "online"})
                )
        return out

    # -- the clock ---------------------------------------------------------------------------

    def tick(self, now_ms: int) -> list[ConditionChange]:
        """Delays that ran out and devices that went silent, with no new reading needed."""
        out: list[ConditionChange] = []
        for (rule_id, device), state in list(self._state.items()):
            rule = self._by_id.get(rule_id)
            if isinstance(rule, OfflineRule):
                if (
                    not state.active
                    and state.last_seen_ms is not None
                    and now_ms - state.last_seen_ms >= rule.after_ms
                ):
                    out.append(
                        self._change(
                            rule,
                            device,
                            state,
                            "raise",
                            state.last_seen_ms + rule.after_ms,
                            {"silent_ms": now_ms - state.last_seen_ms},
                        )
                    )
            elif isinstance(rule, EventRule):
                hold = rule.clear_after_ms
                if hold is not None and state.active and state.since_ms is not None:
                    if now_ms - state.since_ms >= hold:
                        at = state.since_ms + hold
                        out.append(
                            self._change(rule, device, state, "clear", at, {"held_ms": hold})
                        )
            elif (
                isinstance(rule, ThresholdRule | RateRule | CompositeRule)
                and state.since_ms is not None
            ):
                delay = rule.off_delay_ms if state.active else rule.on_delay_ms
                if now_ms - state.since_ms >= delay:
                    change: Literal["raise", "clear"] = "clear" if state.active else "raise"
                    at = state.since_ms + delay
                    out.append(self._change(rule, device, state, change, at, dict(state.values)))
        return out

    # -- kinds with delays -------------------------------------------------------------------

    def _rate(
        self, rule: RateRule, device: DeviceKey, value: float, ts_ms: int
    ) -> list[ConditionChange]:
        state = self._for(rule, device)
        window = state.window
        window.append((ts_ms, value))
        while window and window[0][0] < ts_ms - rule.window_ms:
            window.popleft()
        values = [v for _, v in window]
        rise, fall = value - min(values), max(values) - value
        state.values = {rule.metric: value, "rise": rise, "fall": fall}
        held = rule.breached(rise, fall, state.active)
        return self._delayed(rule, device, state, held, ts_ms)

    def _delayed(
        self, rule: DelayedRule, device: DeviceKey, state: _State, held: bool, ts_ms: int
    ) -> list[ConditionChange]:
        # The condition that would change the alarm: breach while normal, return while active.
        if held == state.active:
            state.since_ms = None
            return []
        if state.since_ms is None:
            state.since_ms = ts_ms
        delay = rule.off_delay_ms if state.active else rule.on_delay_ms
        if ts_ms - state.since_ms < delay:
            return []
        change: Literal["raise", "clear"] = "clear" if state.active else "raise"
        return [self._change(rule, device, state, change, ts_ms, dict(state.values))]

    def _change(
        self,
        rule: Rule,
        device: DeviceKey,
        state: _State,
        change: Literal["raise", "clear"],
        at_ms: int,
        values: Values,
    ) -> ConditionChange:
        state.active = change == "raise"
        state.since_ms = None
        return ConditionChange(
            rule.id,
            device,
            change,
            at_ms,
            rule.severity,
            rule.message,
            values,
            life_safety=rule.life_safety,
            resettable=isinstance(rule, EventRule),
        )


def _where(device: DeviceKey) -> tuple[str, str, str]:
    return device.site, device.system, device.device_id

"""Evaluates rules on the live stream and on the clock; answers the alarm changes it decides.

Threshold rules keep, per (rule, device), whether the alarm is active and since when the
condition has held (or stopped holding), so on- and off-delays are honoured both when the next
reading arrives and, through `tick(now)`, when none does. Offline rules fire on a status
`offline` (the last will) or when telemetry is older than their limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from ingest.readings import DeviceEvent, DeviceKey, DeviceStatus, Reading
from rules.model import EventRule, OfflineRule, Rule, ThresholdRule


@dataclass(frozen=True, slots=True)
class AlarmChange:
    rule_id: str
    device: DeviceKey
    change: Literal["raise", "clear"]
    at_ms: int
    severity: str
    message: str
    values: dict[str, float | bool | str] = field(default_factory=dict)


@dataclass(slots=True)
class _State:
    active: bool = False
    since_ms: int | None = None  # condition changed at (pending raise or pending clear)
    last_value: float | None = None
    last_seen_ms: int | None = None


class RuleEngine:
    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = list(rules)
        self._state: dict[tuple[str, DeviceKey], _State] = {}

    def _for(self, rule: Rule, device: DeviceKey) -> _State:
        return self._state.setdefault((rule.id, device), _State())

    def active(self) -> set[tuple[str, DeviceKey]]:
        return {key for key, state in self._state.items() if state.active}

    # -- the stream --------------------------------------------------------------------------

    def on_reading(self, reading: Reading) -> list[AlarmChange]:
        out: list[AlarmChange] = []
        d = reading.device
        for rule in self.rules:
            if not rule.covers(d.site, d.system, d.device_id):
                continue
            if isinstance(rule, ThresholdRule):
                value = reading.metrics.get(rule.metric)
                if isinstance(value, float):
                    out += self._threshold(rule, d, value, reading.ts_ms)
            elif isinstance(rule, OfflineRule):
                state = self._for(rule, d)
                state.last_seen_ms = max(state.last_seen_ms or 0, reading.ts_ms)
                if state.active:
                    out.append(self._change(rule, d, state, "clear", reading.ts_ms, {}))
        return out

    def on_event(self, event: DeviceEvent) -> list[AlarmChange]:
        out: list[AlarmChange] = []
        d = event.device
        for rule in self.rules:
            if not isinstance(rule, EventRule) or not rule.covers(d.site, d.system, d.device_id):
                continue
            state = self._for(rule, d)
            values: dict[str, float | bool | str] = {"code": event.code}
            if event.code in rule.codes and not state.active:
                out.append(self._change(rule, d, state, "raise", event.ts_ms, values))
            elif event.code in rule.clear_codes and state.active:
                out.append(self._change(rule, d, state, "clear", event.ts_ms, values))
        return out

    def on_status(self, status: DeviceStatus) -> list[AlarmChange]:
        out: list[AlarmChange] = []
        d = status.device
        for rule in self.rules:
            if not isinstance(rule, OfflineRule) or not rule.covers(d.site, d.system, d.device_id):
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

    def tick(self, now_ms: int) -> list[AlarmChange]:
        """Delays that ran out and devices that went silent, with no new reading needed."""
        out: list[AlarmChange] = []
        rules = {rule.id: rule for rule in self.rules}
        for (rule_id, device), state in list(self._state.items()):
            rule = rules.get(rule_id)
            if isinstance(rule, ThresholdRule) and state.since_ms is not None:
                delay = rule.off_delay_ms if state.active else rule.on_delay_ms
                if now_ms - state.since_ms >= delay:
                    change: Literal["raise", "clear"] = "clear" if state.active else "raise"
                    out.append(
                        self._change(
                            rule,
                            device,
                            state,
                            change,
                            state.since_ms + delay,
                            {rule.metric: state.last_value or 0.0},
                        )
                    )
            elif (
                isinstance(rule, OfflineRule)
                and not state.active
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
        return out

    # -- threshold ---------------------------------------------------------------------------

    def _threshold(
        self, rule: ThresholdRule, device: DeviceKey, value: float, ts_ms: int
    ) -> list[AlarmChange]:
        state = self._for(rule, device)
        state.last_value = value
        # The condition that would change the alarm: breach while normal, return while active.
        wants_change = rule.breached(value, state.active) != state.active
        if not wants_change:
            state.since_ms = None
            return []
        if state.since_ms is None:
            state.since_ms = ts_ms
        delay = rule.off_delay_ms if state.active else rule.on_delay_ms
        if ts_ms - state.since_ms < delay:
            return []
        change: Literal["raise", "clear"] = "clear" if state.active else "raise"
        return [self._change(rule, device, state, change, ts_ms, {rule.metric: value})]

    def _change(
        self,
        rule: Rule,
        device: DeviceKey,
        state: _State,
        change: Literal["raise", "clear"],
        at_ms: int,
        values: dict[str, float | bool | str],
    ) -> AlarmChange:
        state.active = change == "raise"
        state.since_ms = None
        return AlarmChange(rule.id, device, change, at_ms, rule.severity, rule.message, values)

"""Rule definitions, as written in rule files (docs/rules.md)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Severity = Literal["critical", "major", "minor", "warning"]
Language = Literal["en", "zh-CN"]
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, None: 1000}


def duration_ms(value: object) -> int:
    """30, "30s", "5m", "1h", "250ms" -> milliseconds (a bare number is seconds)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value * 1000)
    match = _DURATION.match(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a duration like 30s, 5m, 1h")
    return int(float(match.group(1)) * _UNIT_MS[match.group(2)])


class Scope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: Literal["elevator", "water", "power", "fire", "camera"] | None = None
    site: str | None = None
    devices: list[str] | None = None  # device ids (an asset's devices)

    def covers(self, site: str, system: str, device_id: str) -> bool:
        return (
            (self.system is None or self.system == system)
            and (self.site is None or self.site == site)
            and (self.devices is None or device_id in self.devices)
        )


class _Rule(Scope):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
    severity: Severity
    message: str = ""
    # What a person reads, per language (docs/i18n.md): `message` is the fallback for a language
    # the file does not name. Only languages the product speaks are accepted.
    messages: dict[Language, str] = Field(default_factory=dict)
    names: dict[Language, str] = Field(default_factory=dict)
    # Fire, a trapped passenger, flooding, power loss: announced and ticketed even while work on
    # the asset would hold other alarms back. Every fire-system rule is.
    life_safety: bool = False

    @model_validator(mode="after")
    def _fire_is_life_safety(self) -> _Rule:
        if self.system == "fire":
            self.life_safety = True
        return self

    def message_in(self, language: str) -> str:
        """The message in a language, else the file's `message`, else the rule's id."""
        return self.messages.get(language, "") or self.message or self.id  # type: ignore[call-overload]


def _durations_in_ms(data: object, *names: str) -> object:
    """`on_delay: 30s` in a file -> `on_delay_ms: 30000` in the model."""
    if isinstance(data, dict):
        data = dict(data)
        for name in names:
            if name in data:
                data[f"{name}_ms"] = duration_ms(data.pop(name))
    return data


class Limit(BaseModel):
    """`metric` beyond `above` or `below`; once breached, back to normal only past the deadband."""

    model_config = ConfigDict(extra="forbid")

    metric: str
    above: float | None = None
    below: float | None = None
    deadband: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _one_limit(self) -> Limit:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of above / below")
        return self

    def breached(self, value: float, active: bool) -> bool:
        """Raise beyond the limit; once active, clear only back inside limit -/+ deadband."""
        band = self.deadband if active else 0.0
        if self.above is not None:
            return value > self.above - band
        assert self.below is not None
        return value < self.below + band


class _Delayed(_Rule):
    """A condition that must hold `on_delay` before it raises and be gone `off_delay` to clear."""

    on_delay_ms: int = Field(0, ge=0)
    off_delay_ms: int = Field(0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _durations(cls, data: object) -> object:
        return _durations_in_ms(data, "on_delay", "off_delay")


class ThresholdRule(_Delayed, Limit):
    kind: Literal["threshold"]


class RateRule(_Delayed):
    """How far a metric moved within a sliding window: `rise` up, `fall` down, or both."""

    kind: Literal["rate"]
    metric: str
    window_ms: int = Field(ge=1000)
    rise: float | None = Field(None, gt=0)
    fall: float | None = Field(None, gt=0)
    deadband: float = Field(0.0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _window(cls, data: object) -> object:
        return _durations_in_ms(data, "window")

    @model_validator(mode="after")
    def _a_direction(self) -> RateRule:
        if self.rise is None and self.fall is None:
            raise ValueError("give rise, fall or both")
        return self

    def breached(self, rise: float, fall: float, active: bool) -> bool:
        band = self.deadband if active else 0.0
        return (self.rise is not None and rise > self.rise - band) or (
            self.fall is not None and fall > self.fall - band
        )


class CompositeRule(_Delayed):
    """All (or any) of several limits on the device's latest values at once."""

    kind: Literal["composite"]
    all: list[Limit] | None = Field(None, min_length=1)
    any: list[Limit] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one_combination(self) -> CompositeRule:
        if (self.all is None) == (self.any is None):
            raise ValueError("give exactly one of all / any")
        return self

    @property
    def limits(self) -> list[Limit]:
        return self.all or self.any or []

    @property
    def metrics(self) -> set[str]:
        return {limit.metric for limit in self.limits}

    def breached(self, latest: dict[str, float], active: bool) -> bool:
        results = (
            limit.metric in latest and limit.breached(latest[limit.metric], active)
            for limit in self.limits
        )
        return all(results) if self.all is not None else any(results)


class EventRule(_Rule):
    """Raised by a device's event code. It returns to normal by one of three ways: a clear code
    from the device (`clear_codes`), by itself once the code has not come again for
    `clear_after` (self-clearing events), or only by a person's reset (`latch: true`, and any
    event rule with neither of the others)."""

    kind: Literal["event"]
    codes: list[str] = Field(min_length=1)
    clear_codes: list[str] = Field(default_factory=list)
    clear_after_ms: int | None = Field(None, ge=1000)
    latch: bool = False

    @model_validator(mode="before")
    @classmethod
    def _duration(cls, data: object) -> object:
        return _durations_in_ms(data, "clear_after")

    @model_validator(mode="after")
    def _one_way_back(self) -> EventRule:
        if self.latch and (self.clear_codes or self.clear_after_ms is not None):
            raise ValueError("a latched event clears only on reset: no clear_codes/clear_after")
        if self.clear_codes and self.clear_after_ms is not None:
            raise ValueError("give clear_codes or clear_after, not both")
        return self


class OfflineRule(_Rule):
    kind: Literal["offline"]
    after_ms: int = Field(ge=1000)

    @model_validator(mode="before")
    @classmethod
    def _duration(cls, data: object) -> object:
        return _durations_in_ms(data, "after")


Rule = Annotated[
    ThresholdRule | RateRule | CompositeRule | EventRule | OfflineRule, Field(discriminator="kind")
]
DelayedRule = ThresholdRule | RateRule | CompositeRule
RULE_KINDS = ("threshold", "rate", "composite", "event", "offline")


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[Rule]

"""Rule definitions, as written in rule files (docs/rules.md)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Severity = Literal["critical", "major", "minor", "warning"]
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


class ThresholdRule(_Rule):
    kind: Literal["threshold"]
    metric: str
    above: float | None = None
    below: float | None = None
    deadband: float = Field(0.0, ge=0)
    on_delay_ms: int = Field(0, ge=0)
    off_delay_ms: int = Field(0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _durations(cls, data: object) -> object:
        if isinstance(data, dict):
            data = dict(data)
            for name in ("on_delay", "off_delay"):
                if name in data:
                    data[f"{name}_ms"] = duration_ms(data.pop(name))
        return data

    @model_validator(mode="after")
    def _one_limit(self) -> ThresholdRule:
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


class EventRule(_Rule):
    kind: Literal["event"]
    codes: list[str] = Field(min_length=1)
    clear_codes: list[str] = Field(default_factory=list)


class OfflineRule(_Rule):
    kind: Literal["offline"]
    after_ms: int = Field(ge=1000)

    @model_validator(mode="before")
    @classmethod
    def _duration(cls, data: object) -> object:
        if isinstance(data, dict) and "after" in data:
            data = dict(data)
            data["after_ms"] = duration_ms(data.pop("after"))
        return data


Rule = Annotated[ThresholdRule | EventRule | OfflineRule, Field(discriminator="kind")]


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[Rule]

"""The values that leave the parser: one per accepted message, or a dead letter with its reason."""

from __future__ import annotations

from dataclasses import dataclass

MetricValue = float | bool


@dataclass(slots=True, frozen=True)
class DeviceKey:
    site: str
    system: str
    device_id: str


@dataclass(slots=True, frozen=True)
class Reading:
    """One telemetry message: numbers are floats, flags booleans."""

    device: DeviceKey
    ts_ms: int
    seq: int | None
    metrics: dict[str, MetricValue]


@dataclass(slots=True, frozen=True)
class DeviceEvent:
    device: DeviceKey
    ts_ms: int
    code: str
    severity: str | None
    message: str | None


@dataclass(slots=True, frozen=True)
class DeviceStatus:
    device: DeviceKey
    online: bool
    received_ms: int


@dataclass(slots=True, frozen=True)
class DeviceAttributes:
    """Text a device reports (a connector's name, a firmware version, a text status): the
    newest value per name, kept with the device in the registry, not a time series (metrics are
    numbers and flags, which rules, charts and anomaly models read)."""

    device: DeviceKey
    ts_ms: int
    values: dict[str, str]


Accepted = Reading | DeviceEvent | DeviceStatus | DeviceAttributes


@dataclass(slots=True, frozen=True)
class DeadLetter:
    topic: str
    payload: bytes  # truncated to the dead-letter limit
    reason: str
    received_ms: int

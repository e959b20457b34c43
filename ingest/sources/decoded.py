"""What a format decoder makes of one message, before device identity and the metric catalogue:
the gateway's own names, to be mapped by the source (ingest.sources.mapping)."""

from __future__ import annotations

from dataclasses import dataclass

RawValue = float | bool
MAX_TEXT_CHARS = 256  # a device attribute's value: a name or a version, not a document


@dataclass(slots=True, frozen=True)
class RawReading:
    device: str  # the gateway's name for the device ("Pump 1", "group/node/device")
    ts_ms: int | None  # None: the time the message arrived
    metrics: dict[str, RawValue]


@dataclass(slots=True, frozen=True)
class RawStatus:
    device: str
    online: bool


@dataclass(slots=True, frozen=True)
class RawAttributes:
    """Text values of a device, as the gateway names them (ingest.readings.DeviceAttributes)."""

    device: str
    ts_ms: int | None
    values: dict[str, str]


@dataclass(slots=True, frozen=True)
class Problem:
    """Part of a message that yields nothing: a dead letter with this reason."""

    reason: str


@dataclass(slots=True, frozen=True)
class Reply:
    """A message the service publishes in answer (a ThingsBoard RPC response, a rebirth request)."""

    topic: str
    payload: bytes


Decoded = RawReading | RawStatus | RawAttributes | Problem | Reply


def number(value: object) -> RawValue | None:
    """A gateway's value as a metric value, or None for text and structures."""
    if value is True or value is False:
        return value
    if isinstance(value, int | float):
        try:
            result = float(value)
        except OverflowError:
            return None
        return result if result == result and abs(result) != float("inf") else None
    return None


def readings_of(device: str, ts_ms: int | None, values: dict[str, object]) -> list[Decoded]:
    """A reading of the numeric and boolean values, the text values as device attributes; each
    other value (null, an array, text past MAX_TEXT_CHARS) a Problem naming it."""
    metrics: dict[str, RawValue] = {}
    texts: dict[str, str] = {}
    out: list[Decoded] = []
    for name, value in _flat(values):
        converted = number(value)
        if converted is not None:
            metrics[str(name)] = converted
        elif isinstance(value, str) and len(value) <= MAX_TEXT_CHARS:
            texts[str(name)] = value
        elif isinstance(value, str):
            out.append(
                Problem(
                    f"device {device!r} metric {name!r}: text of {len(value)} characters; "
                    f"the limit is {MAX_TEXT_CHARS}"
                )
            )
        else:
            out.append(Problem(f"device {device!r} metric {name!r}: not a number, flag or text"))
    if texts:
        out.insert(0, RawAttributes(device, ts_ms, texts))
    if metrics:
        out.insert(0, RawReading(device, ts_ms, metrics))
    return out


def _flat(values: dict[str, object], prefix: str = "") -> list[tuple[str, object]]:
    """Nested objects (a gateway's statistics) as dotted names: {"machine": {"cpu": 3}} ->
    machine.cpu."""
    out: list[tuple[str, object]] = []
    for name, value in values.items():
        if isinstance(value, dict) and value:
            out.extend(_flat(value, f"{prefix}{name}."))
        else:
            out.append((f"{prefix}{name}", value))
    return out

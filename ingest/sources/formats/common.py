"""What the decoders share: JSON bodies and times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PER_MS = {"s": 1000.0, "ms": 1.0, "us": 0.001, "ns": 0.000001}


class FormatError(ValueError):
    """The whole message cannot be decoded; the reason goes to its dead letter."""


def json_body(payload: bytes) -> object:
    if not payload:
        raise FormatError("empty payload")
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        raise FormatError(f"invalid JSON: {error}") from None


def time_ms(value: object, unit: str = "ms") -> int:
    """Epoch time in `unit`, or an RFC 3339 string, as epoch milliseconds."""
    if isinstance(value, bool):
        raise FormatError(f"time: {value!r} is not a time")
    if isinstance(value, int | float):
        return int(value * _PER_MS[unit])
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise FormatError(f"time: {value[:40]!r} is not an RFC 3339 timestamp") from None
        if moment.tzinfo is None:
            raise FormatError(f"time: {value[:40]!r} has no offset (Z or +hh:mm)")
        return (moment - EPOCH) // timedelta(milliseconds=1)
    raise FormatError(f"time: {type(value).__name__} is not a time")

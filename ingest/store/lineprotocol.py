"""InfluxDB line protocol, escaped exactly so that no name or value can inject another element.

Identifiers that line protocol cannot carry unambiguously (backslashes, line breaks) raise
UnrepresentableError; the writer dead-letters those points instead of altering them.
"""

from __future__ import annotations

import math

from ingest.store.base import FieldValue, Point


class UnrepresentableError(ValueError):
    pass


_MEASUREMENT = str.maketrans({",": "\\,", " ": "\\ "})
_KEY = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ "})
_FORBIDDEN = ("\\", "\n", "\r")


def _checked(text: str, what: str) -> str:
    if not text or any(bad in text for bad in _FORBIDDEN):
        raise UnrepresentableError(f"{what} {text!r} is empty or holds a backslash or line break")
    return text


def field_value(value: FieldValue) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return f"{value}i"
    if type(value) is float:
        if not math.isfinite(value):
            raise UnrepresentableError(f"field value {value!r} is not finite")
        return repr(value)
    if type(value) is str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    raise UnrepresentableError(f"unsupported field type {type(value).__name__}")


def encode_point(point: Point) -> str:
    head = _checked(point.measurement, "measurement").translate(_MEASUREMENT)
    if head.startswith("#"):
        raise UnrepresentableError("measurement may not start with '#'")
    tags = "".join(
        f",{_checked(k, 'tag key').translate(_KEY)}={_checked(v, 'tag value').translate(_KEY)}"
        for k, v in sorted(point.tags)
    )
    if not point.fields:
        raise UnrepresentableError("a point needs at least one field")
    fields = ",".join(
        f"{_checked(name, 'field key').translate(_KEY)}={field_value(value)}"
        for name, value in point.fields.items()
    )
    return f"{head}{tags} {fields} {point.ts_ms}"


class LineEncoder:
    """encode_point with the escaped series prefix and field keys cached: a fleet repeats the same
    few thousand series and metric names, and escaping them again per point dominated the cost."""

    def __init__(self, max_cached: int = 200_000) -> None:
        self._series: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
        self._keys: dict[str, str] = {}
        self._max = max_cached

    def encode(self, point: Point) -> str:
        series = (point.measurement, point.tags)
        prefix = self._series.get(series)
        if prefix is None:
            if len(self._series) >= self._max:
                self._series.clear()
            probe = encode_point(Point(point.measurement, point.tags, {"f": 0.0}, 0))
            prefix = self._series[series] = probe[: probe.rindex(" f=0.0 0")]
        keys = self._keys
        fields = []
        for name, value in point.fields.items():
            key = keys.get(name)
            if key is None:
                if len(keys) >= self._max:
                    keys.clear()
                key = keys[name] = _checked(name, "field key").translate(_KEY)
            kind = type(value)
            if kind is float and math.isfinite(value):  # type: ignore[arg-type]
                fields.append(f"{key}={value!r}")
            else:
                fields.append(f"{key}={field_value(value)}")
        if not fields:
            raise UnrepresentableError("a point needs at least one field")
        return f"{prefix} {','.join(fields)} {point.ts_ms}"

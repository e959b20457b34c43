"""The telemetry store interface every backend implements (see the store contract tests)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

FieldValue = float | bool | int | str


@dataclass(slots=True, frozen=True)
class Point:
    """One row of a series: InfluxDB's model (measurement, tags, fields, time in ms)."""

    measurement: str
    tags: tuple[tuple[str, str], ...]
    fields: Mapping[str, FieldValue]
    ts_ms: int

    def tag(self, key: str) -> str | None:
        return next((value for name, value in self.tags if name == key), None)


@dataclass(slots=True, frozen=True)
class Rejection:
    """A point the store refused for good (not worth retrying), with the store's own reason."""

    point: Point
    reason: str


@dataclass(slots=True, frozen=True)
class Aggregate:
    start_ms: int
    mean: float
    min: float
    max: float
    count: int


@dataclass(slots=True, frozen=True)
class LatestPoint:
    ts_ms: int
    fields: dict[str, FieldValue] = field(default_factory=dict)


class StoreUnavailable(RuntimeError):
    """The store cannot take writes or answer now (down, slow, auth): retry later, keep the data."""


class TelemetryStore(Protocol):
    def write(self, points: Sequence[Point]) -> list[Rejection]:
        """Write all points or raise StoreUnavailable. Points refused for good are returned;
        the rest of the batch is written. Writing a point again is idempotent."""

    def ping(self) -> bool: ...

    def raw(
        self, measurement: str, tags: Mapping[str, str], field_name: str, start_ms: int, end_ms: int
    ) -> list[tuple[int, FieldValue]]:
        """(ts, value) of one field in [start, end), oldest first; points without it are skipped."""

    def aggregate(
        self,
        measurement: str,
        tags: Mapping[str, str],
        field_name: str,
        start_ms: int,
        end_ms: int,
        interval_ms: int,
    ) -> list[Aggregate]:
        """mean/min/max/count per interval bucket (aligned to the epoch); empty buckets omitted."""

    def latest(self, measurement: str, tags: Mapping[str, str]) -> dict[str, LatestPoint]:
        """The newest point of each device_id among points matching tags."""

    def last_values(
        self, measurement: str, tags: Mapping[str, str], field_name: str
    ) -> dict[str, tuple[int, FieldValue]]:
        """Per device_id: the newest (ts, value) of one field, whatever newer points lack it."""

    def count(
        self, measurement: str, tags: Mapping[str, str], field_name: str, start_ms: int, end_ms: int
    ) -> int:
        """How many points in [start, end) carry field_name."""

    def close(self) -> None: ...

"""The embedded telemetry store: one SQLite file, for `make run` without an InfluxDB.

It keeps InfluxDB's semantics so both pass one contract suite: a point is identified by
measurement + tag set + time (writing it again merges its fields), and a field keeps the type it
was first written with (a conflicting point is refused with the reason; the rest of the batch
lands).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from ingest.store.base import (
    Aggregate,
    FieldValue,
    LatestPoint,
    Point,
    Rejection,
    StoreUnavailable,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS points (
    measurement TEXT NOT NULL,
    series TEXT NOT NULL,
    device_id TEXT,
    tags TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    fields TEXT NOT NULL,
    PRIMARY KEY (measurement, series, ts_ms)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS points_device_time ON points (measurement, device_id, ts_ms);
CREATE TABLE IF NOT EXISTS field_types (
    measurement TEXT NOT NULL,
    field TEXT NOT NULL,
    type TEXT NOT NULL,
    PRIMARY KEY (measurement, field)
) WITHOUT ROWID;
"""


def _type_name(value: FieldValue) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    return "string"


class SqliteTelemetryStore:
    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._types: dict[tuple[str, str], str] = {
            (m, f): t
            for m, f, t in self._db.execute("SELECT measurement, field, type FROM field_types")
        }

    def write(self, points: Sequence[Point]) -> list[Rejection]:
        rejected: list[Rejection] = []
        rows: list[tuple[str, str, str | None, str, int, str]] = []
        new_types: dict[tuple[str, str], str] = {}
        for point in points:
            conflict = self._type_conflict(point, new_types)
            if conflict:
                rejected.append(Rejection(point, conflict))
                continue
            for name, value in point.fields.items():
                new_types.setdefault((point.measurement, name), _type_name(value))
            tags = dict(sorted(point.tags))
            series = json.dumps(tags, separators=(",", ":"))
            rows.append(
                (
                    point.measurement,
                    series,
                    tags.get("device_id"),
                    series,
                    point.ts_ms,
                    json.dumps(dict(point.fields), separators=(",", ":")),
                )
            )
        with self._lock:
            try:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT INTO points VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (measurement, series, ts_ms) "
                    "DO UPDATE SET fields = json_patch(points.fields, excluded.fields)",
                    rows,
                )
                fresh = [(m, f, t) for (m, f), t in new_types.items() if (m, f) not in self._types]
                self._db.executemany("INSERT OR IGNORE INTO field_types VALUES (?, ?, ?)", fresh)
                self._db.execute("COMMIT")
            except sqlite3.Error as error:
                self._db.execute("ROLLBACK")
                raise StoreUnavailable(f"SQLite telemetry store: {error}") from error
            self._types.update(new_types)
        return rejected

    def _type_conflict(self, point: Point, pending: dict[tuple[str, str], str]) -> str | None:
        for name, value in point.fields.items():
            key = (point.measurement, name)
            existing = self._types.get(key) or pending.get(key)
            if existing and existing != _type_name(value):
                return (
                    f'field type conflict: input field "{name}" on measurement '
                    f'"{point.measurement}" is type {_type_name(value)}, '
                    f"already exists as type {existing}"
                )
        return None

    def ping(self) -> bool:
        try:
            with self._lock:
                self._db.execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def _select(
        self,
        columns: str,
        measurement: str,
        tags: Mapping[str, str],
        start_ms: int | None,
        end_ms: int | None,
        tail: str = "",
    ) -> list[tuple[object, ...]]:
        clauses = ["measurement = ?"]
        params: list[object] = [measurement]
        for key, value in sorted(tags.items()):
            clauses.append("json_extract(tags, ?) = ?")
            params += [f'$."{key}"', value]
        if start_ms is not None:
            clauses.append("ts_ms >= ?")
            params.append(start_ms)
        if end_ms is not None:
            clauses.append("ts_ms < ?")
            params.append(end_ms)
        sql = f"SELECT {columns} FROM points WHERE {' AND '.join(clauses)} {tail}"
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def raw(
        self, measurement: str, tags: Mapping[str, str], field_name: str, start_ms: int, end_ms: int
    ) -> list[tuple[int, FieldValue]]:
        rows = self._select("ts_ms, fields", measurement, tags, start_ms, end_ms, "ORDER BY ts_ms")
        out: list[tuple[int, FieldValue]] = []
        for ts_ms, fields in rows:
            value = json.loads(str(fields)).get(field_name)
            if value is not None:
                out.append((int(str(ts_ms)), value))
        return out

    def aggregate(
        self,
        measurement: str,
        tags: Mapping[str, str],
        field_name: str,
        start_ms: int,
        end_ms: int,
        interval_ms: int,
    ) -> list[Aggregate]:
        buckets: dict[int, list[float]] = {}
        for ts_ms, value in self.raw(measurement, tags, field_name, start_ms, end_ms):
            buckets.setdefault(ts_ms - ts_ms % interval_ms, []).append(float(value))
        return [
            Aggregate(start, sum(values) / len(values), min(values), max(values), len(values))
            for start, values in sorted(buckets.items())
        ]

    def latest(self, measurement: str, tags: Mapping[str, str]) -> dict[str, LatestPoint]:
        rows = self._select(
            "device_id, ts_ms, fields", measurement, tags, None, None, "ORDER BY ts_ms DESC"
        )
        out: dict[str, LatestPoint] = {}
        for device_id, ts_ms, fields in rows:
            if device_id is not None and str(device_id) not in out:
                out[str(device_id)] = LatestPoint(int(str(ts_ms)), json.loads(str(fields)))
        return out

    def last_values(
        self, measurement: str, tags: Mapping[str, str], field_name: str
    ) -> dict[str, tuple[int, FieldValue]]:
        rows = self._select(
            "device_id, ts_ms, fields", measurement, tags, None, None, "ORDER BY ts_ms DESC"
        )
        out: dict[str, tuple[int, FieldValue]] = {}
        for device_id, ts_ms, fields in rows:
            if device_id is None or str(device_id) in out:
                continue
            value = json.loads(str(fields)).get(field_name)
            if value is not None:
                out[str(device_id)] = (int(str(ts_ms)), value)
        return out

    def count(
        self, measurement: str, tags: Mapping[str, str], field_name: str, start_ms: int, end_ms: int
    ) -> int:
        return len(self.raw(measurement, tags, field_name, start_ms, end_ms))

    def close(self) -> None:
        with self._lock:
            self._db.close()

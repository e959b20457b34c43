"""InfluxDB through its v1 HTTP API: line protocol to /write, InfluxQL over /query, /ping.

Served by InfluxDB 1.x, by 2.x's v1 compatibility API (token auth, a DBRP mapping for the database)
and by 3.x natively, so one client covers all three.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from ingest.store.base import (
    Aggregate,
    FieldValue,
    LatestPoint,
    Point,
    Rejection,
    StoreUnavailable,
)
from ingest.store.lineprotocol import LineEncoder, UnrepresentableError

log = logging.getLogger(__name__)


class InfluxStore:
    def __init__(
        self,
        url: str,
        database: str,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout_s: float = 10.0,
        create_database: bool = True,
    ) -> None:
        headers = {"Authorization": f"Token {token}"} if token else {}
        auth = httpx.BasicAuth(username, password or "") if username else None
        self._http = httpx.Client(
            base_url=url.rstrip("/"), headers=headers, auth=auth, timeout=timeout_s
        )
        self._database = database
        self._create_database = create_database
        self._database_ready = False
        # InfluxDB's JSON answers 30.0 as 30: field types restore float-ness (SHOW FIELD KEYS).
        self._field_types: dict[str, dict[str, str]] = {}
        self._encoder = LineEncoder()

    # -- writing ---------------------------------------------------------------------------

    def write(self, points: Sequence[Point]) -> list[Rejection]:
        rejected: list[Rejection] = []
        lines: list[str] = []
        encodable: list[Point] = []
        for point in points:
            try:
                lines.append(self._encoder.encode(point))
                encodable.append(point)
            except UnrepresentableError as error:
                rejected.append(Rejection(point, f"unrepresentable in line protocol: {error}"))
        if encodable:
            self._ensure_database()
            self._write_lines(encodable, lines, rejected)
        return rejected

    def _write_lines(
        self, points: list[Point], lines: list[str], rejected: list[Rejection]
    ) -> None:
        """POST a chunk; on a 400 (a point refused) bisect so that only the refused points are
        dead-lettered. Re-sending the good half is idempotent: one point per series and time."""
        status, error = self._post_write("\n".join(lines))
        if status < 300:
            return
        if status == 404 and "database not found" in error:
            self._database_ready = False
            self._ensure_database()
            status, error = self._post_write("\n".join(lines))
            if status < 300:
                return
        if status in (400, 413) or (status == 404 and "database not found" not in error):
            if len(points) == 1:
                if status == 413:
                    error = "point larger than InfluxDB's max-body-size"
                rejected.append(Rejection(points[0], f"InfluxDB refused the point: {error}"))
                return
            middle = len(points) // 2
            self._write_lines(points[:middle], lines[:middle], rejected)
            self._write_lines(points[middle:], lines[middle:], rejected)
            return
        raise StoreUnavailable(f"InfluxDB write answered {status}: {error}")

    def _post_write(self, body: str) -> tuple[int, str]:
        try:
            response = self._http.post(
                "/write",
                params={"db": self._database, "precision": "ms"},
                content=body.encode(),
            )
        except httpx.HTTPError as error:
            raise StoreUnavailable(f"InfluxDB write failed: {error!r}") from error
        if response.status_code < 300:
            return response.status_code, ""
        return response.status_code, _error_text(response)

    def _ensure_database(self) -> None:
        if self._database_ready or not self._create_database:
            return
        try:
            response = self._http.post("/query", data={"q": f'CREATE DATABASE "{self._database}"'})
        except httpx.HTTPError as error:
            raise StoreUnavailable(f"InfluxDB unreachable: {error!r}") from error
        if response.status_code >= 500:
            raise StoreUnavailable(f"InfluxDB answered {response.status_code}")
        if response.status_code >= 300:
            # 2.x and 3.x manage databases themselves; a refusal here is not an error.
            log.info("CREATE DATABASE answered %s; assuming it exists", response.status_code)
        self._database_ready = True

    # -- reading ---------------------------------------------------------------------------

    def ping(self) -> bool:
        try:
            return self._http.get("/ping", timeout=2.0).status_code < 300
        except httpx.HTTPError:
            return False

    def query(self, influxql: str) -> list[dict[str, Any]]:
        """Run one InfluxQL statement; return its series (name, tags, columns, values)."""
        try:
            response = self._http.get(
                "/query", params={"db": self._database, "q": influxql, "epoch": "ms"}
            )
        except httpx.HTTPError as error:
            raise StoreUnavailable(f"InfluxDB query failed: {error!r}") from error
        if response.status_code >= 500:
            raise StoreUnavailable(f"InfluxDB query answered {response.status_code}")
        body = response.json()
        if response.status_code >= 300 or "error" in body:
            raise ValueError(f"InfluxQL error: {body.get('error', response.text)}")
        result = body["results"][0]
        if "error" in result:
            if "database not found" in result["error"]:
                return []
            raise ValueError(f"InfluxQL error: {result['error']}")
        series: list[dict[str, Any]] = result.get("series", [])
        return series

    def raw(
        self, measurement: str, tags: Mapping[str, str], field_name: str, start_ms: int, end_ms: int
    ) -> list[tuple[int, FieldValue]]:
        q = (
            f"SELECT {ident(field_name)} FROM {ident(measurement)} "
            f"WHERE {_where(tags, start_ms, end_ms)}"
        )
        rows: list[tuple[int, FieldValue]] = []
        for series in self.query(q):
            rows.extend(
                (int(t), self._typed(measurement, field_name, v))
                for t, v in series["values"]
                if v is not None
            )
        return sorted(rows, key=lambda row: row[0])

    def _typed(self, measurement: str, field_name: str, value: FieldValue) -> FieldValue:
        if type(value) is not int:
            return value
        types = self._field_types.get(measurement, {})
        if field_name not in types:
            types = self._field_types[measurement] = {
                name: kind
                for series in self.query(f"SHOW FIELD KEYS FROM {ident(measurement)}")
                for name, kind in series["values"]
            }
        return float(value) if types.get(field_name) == "float" else value

    def aggregate(
        self,
        measurement: str,
        tags: Mapping[str, str],
        field_name: str,
        start_ms: int,
        end_ms: int,
        interval_ms: int,
    ) -> list[Aggregate]:
        f = ident(field_name)
        q = (
            f"SELECT MEAN({f}), MIN({f}), MAX({f}), COUNT({f}) FROM {ident(measurement)} "
            f"WHERE {_where(tags, start_ms, end_ms)} GROUP BY time({interval_ms}ms) fill(none)"
        )
        out: list[Aggregate] = []
        for series in self.query(q):
            for t, mean, low, high, count in series["values"]:
                out.append(Aggregate(int(t), float(mean), float(low), float(high), int(count)))
        return out

    def latest(self, measurement: str, tags: Mapping[str, str]) -> dict[str, LatestPoint]:
        q = (
            f"SELECT *::field FROM {ident(measurement)} WHERE {_where(tags, None, None)} "
            "GROUP BY device_id ORDER BY time DESC LIMIT 1"
        )
        out: dict[str, LatestPoint] = {}
        for series in self.query(q):
            columns = series["columns"]
            row = series["values"][0]
            fields = {
                c: self._typed(measurement, c, v)
                for c, v in zip(columns, row, strict=True)
                if c != "time" and v is not None
            }
            out[series["tags"]["device_id"]] = LatestPoint(int(row[0]), fields)
        return out

    def last_values(
        self, measurement: str, tags: Mapping[str, str], field_name: str
    ) -> dict[str, tuple[int, FieldValue]]:
        q = (
            f"SELECT LAST({ident(field_name)}) FROM {ident(measurement)} "
            f"WHERE {_where(tags, None, None)} GROUP BY device_id"
        )
        return {
            series["tags"]["device_id"]: (
                int(series["values"][0][0]),
                self._typed(measurement, field_name, series["values"][0][1]),
            )
            for series in self.query(q)
            if series["values"] and series["values"][0][1] is not None
        }

    def count(
        self, measurement: str, tags: Mapping[str, str], field_name: str, start_ms: int, end_ms: int
    ) -> int:
        q = (
            f"SELECT COUNT({ident(field_name)}) FROM {ident(measurement)} "
            f"WHERE {_where(tags, start_ms, end_ms)}"
        )
        series = self.query(q)
        return int(series[0]["values"][0][1]) if series else 0

    def close(self) -> None:
        self._http.close()


def ident(name: str) -> str:
    """An InfluxQL double-quoted identifier."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def literal(value: str) -> str:
    """An InfluxQL single-quoted string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _where(tags: Mapping[str, str], start_ms: int | None, end_ms: int | None) -> str:
    clauses = [f"{ident(k)} = {literal(v)}" for k, v in sorted(tags.items())]
    if start_ms is not None:
        clauses.append(f"time >= {start_ms}ms")
    if end_ms is not None:
        clauses.append(f"time < {end_ms}ms")
    return " AND ".join(clauses) or "time > 0"


def _error_text(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", response.text))
    except ValueError:
        return response.text.strip() or f"HTTP {response.status_code}"

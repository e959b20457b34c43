"""One contract, every telemetry store backend: the embedded SQLite store and a real InfluxDB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.store.base import Point, TelemetryStore
from ingest.store.influx import InfluxStore
from ingest.store.sqlite import SqliteTelemetryStore
from tests.servers import Influx

T0 = 1_790_000_000_000  # a fixed instant (2026-09-21), ms


@pytest.fixture(params=["sqlite", "influx"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TelemetryStore]:
    if request.param == "sqlite":
        backend: TelemetryStore = SqliteTelemetryStore(tmp_path / "telemetry.sqlite")
    else:
        backend = request.getfixturevalue("influx_store")
    yield backend
    backend.close()


def point(
    device: str, ts: int, site: str = "s1", measurement: str = "water", **fields: object
) -> Point:
    return Point(measurement, (("device_id", device), ("site", site)), fields, ts)  # type: ignore[arg-type]


def test_raw_returns_exactly_what_was_written_in_time_order(store: TelemetryStore) -> None:
    store.write(
        [
            point("p1", T0 + 2000, flow=3.5),
            point("p1", T0, flow=1.0),
            point("p1", T0 + 1000, flow=2.25),
            point("p2", T0, flow=9.0),
        ]
    )
    assert store.raw("water", {"device_id": "p1"}, "flow", T0, T0 + 3000) == [
        (T0, 1.0),
        (T0 + 1000, 2.25),
        (T0 + 2000, 3.5),
    ]
    assert store.raw("water", {"device_id": "p1"}, "flow", T0, T0 + 2000) == [
        (T0, 1.0),
        (T0 + 1000, 2.25),
    ]


def test_booleans_stay_booleans_and_integral_floats_stay_floats(store: TelemetryStore) -> None:
    store.write(
        [
            point("p1", T0, pump_running=True, flow=30.0),
            point("p1", T0 + 1, pump_running=False, flow=29.5),
        ]
    )
    assert store.raw("water", {"device_id": "p1"}, "pump_running", T0, T0 + 10) == [
        (T0, True),
        (T0 + 1, False),
    ]
    values = store.raw("water", {"device_id": "p1"}, "flow", T0, T0 + 10)
    assert values == [(T0, 30.0), (T0 + 1, 29.5)]
    assert all(type(v) is float for _, v in values)


def test_rewriting_a_point_is_idempotent(store: TelemetryStore) -> None:
    batch = [point("p1", T0 + i, flow=float(i)) for i in range(50)]
    assert store.write(batch) == []
    assert store.write(batch) == []
    assert store.count("water", {"device_id": "p1"}, "flow", T0, T0 + 100) == 50


def test_field_type_conflict_is_rejected_with_reason_and_the_rest_lands(
    store: TelemetryStore,
) -> None:
    store.write([point("p1", T0, flow=1.0)])
    batch = [
        point("p1", T0 + 1, flow=2.0),
        point("p1", T0 + 2, flow=True),
        point("p1", T0 + 3, flow=4.0),
    ]
    rejected = store.write(batch)
    assert [r.point for r in rejected] == [batch[1]]
    assert "type" in rejected[0].reason and "flow" in rejected[0].reason
    assert store.raw("water", {"device_id": "p1"}, "flow", T0, T0 + 10) == [
        (T0, 1.0),
        (T0 + 1, 2.0),
        (T0 + 3, 4.0),
    ]


@pytest.mark.parametrize("nasty", ["a b", "a,b", "a=b", 'a"b', "a'b", 'x y,z=w"q'])
def test_special_characters_round_trip_without_injecting_anything(
    store: TelemetryStore, nasty: str
) -> None:
    rejected = store.write(
        [Point("water", (("device_id", nasty), ("site", "s1")), {nasty: 1.5, "flow": 2.0}, T0)]
    )
    assert rejected == []
    assert store.raw("water", {"device_id": nasty}, nasty, T0, T0 + 1) == [(T0, 1.5)]
    latest = store.latest("water", {"site": "s1"})
    assert set(latest) == {nasty}
    assert latest[nasty].fields == {nasty: 1.5, "flow": 2.0}
    if isinstance(store, InfluxStore):
        tag_keys = store.query('SHOW TAG KEYS FROM "water"')[0]["values"]
        assert sorted(v[0] for v in tag_keys) == ["device_id", "site"]
        assert [s["name"] for s in store.query("SHOW MEASUREMENTS")] == ["measurements"]
        assert store.query("SHOW MEASUREMENTS")[0]["values"] == [["water"]]


def test_unrepresentable_names_are_rejected_not_altered(store: TelemetryStore) -> None:
    good = point("p1", T0, flow=1.0)
    rejected = store.write(
        [
            good,
            Point("water", (("device_id", "back\\slash"),), {"f": 1.0}, T0),
            Point("water", (("device_id", "p2"),), {"line\nbreak": 1.0}, T0),
        ]
    )
    if isinstance(store, InfluxStore):
        assert len(rejected) == 2
    assert store.raw("water", {"device_id": "p1"}, "flow", T0, T0 + 1) == [(T0, 1.0)]


def test_aggregate_means_min_max_per_interval(store: TelemetryStore) -> None:
    store.write([point("p1", T0 + i * 1000, flow=float(i)) for i in range(10)])
    buckets = store.aggregate("water", {"device_id": "p1"}, "flow", T0, T0 + 10_000, 5000)
    start = T0 - T0 % 5000
    assert [(b.start_ms, b.mean, b.min, b.max, b.count) for b in buckets] == [
        (start, 2.0, 0.0, 4.0, 5),
        (start + 5000, 7.0, 5.0, 9.0, 5),
    ]


def test_latest_gives_the_newest_point_per_device(store: TelemetryStore) -> None:
    store.write(
        [
            point("p1", T0, flow=1.0),
            point("p1", T0 + 5, flow=2.0),
            point("p2", T0 + 3, flow=7.0),
            point("p3", T0 + 9, site="s2", flow=5.0),
        ]
    )
    latest = store.latest("water", {"site": "s1"})
    assert {d: (p.ts_ms, p.fields) for d, p in latest.items()} == {
        "p1": (T0 + 5, {"flow": 2.0}),
        "p2": (T0 + 3, {"flow": 7.0}),
    }
    everywhere = store.latest("water", {})
    assert {d: p.fields for d, p in everywhere.items()} == {
        "p1": {"flow": 2.0},
        "p2": {"flow": 7.0},
        "p3": {"flow": 5.0},
    }


def test_count_and_empty_queries(store: TelemetryStore) -> None:
    assert store.count("water", {}, "flow", T0, T0 + 10) == 0
    assert store.raw("power", {"device_id": "none"}, "x", T0, T0 + 10) == []
    assert store.latest("camera", {}) == {}
    store.write(
        [point("p1", T0 + i, flow=1.0) for i in range(7)] + [point("p1", T0 + 7, level=3.0)]
    )
    assert store.count("water", {"device_id": "p1"}, "flow", T0, T0 + 100) == 7
    assert store.ping()


def test_influx_creates_its_database_and_reports_down(influx_server: Influx) -> None:
    store = InfluxStore(influx_server.url, "fresh_db_created_on_first_write")
    assert store.write([point("p1", T0, flow=1.0)]) == []
    assert store.count("water", {}, "flow", T0, T0 + 1) == 1
    store.close()
    down = InfluxStore("http://127.0.0.1:9", "x", timeout_s=0.5)
    assert not down.ping()
    from ingest.store.base import StoreUnavailable

    with pytest.raises(StoreUnavailable):
        down.write([point("p1", T0, flow=1.0)])


def test_last_values_skip_newer_points_without_the_field(store: TelemetryStore) -> None:
    store.write(
        [
            point("e1", T0, trips=100.0),
            point("e1", T0 + 5, vibration=1.0),
            point("e2", T0 + 1, trips=7.0),
            point("e3", T0 + 2, site="s2", trips=9.0),
        ]
    )
    assert store.last_values("water", {"site": "s1"}, "trips") == {
        "e1": (T0, 100.0),
        "e2": (T0 + 1, 7.0),
    }
    assert store.last_values("water", {"site": "s1"}, "nothing") == {}

"""The collector's pipeline without a broker: handle() -> spool -> store, with a stand-in store."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from ingest.collector import Collector, CollectorConfig
from ingest.store.base import Point, Rejection, StoreUnavailable
from ingest.store.sqlite import SqliteTelemetryStore
from tests.servers import wait_until

NOW_MS = int(time.time() * 1000)


class FlakyStore(SqliteTelemetryStore):
    """The embedded store, made unavailable on demand."""

    down = False

    def write(self, points: Sequence[Point]) -> list[Rejection]:
        if self.down:
            raise StoreUnavailable("down for the test")
        return super().write(points)


def telemetry(device: str, ts: int, **metrics: object) -> tuple[bytes, bytes]:
    import json

    body = json.dumps({"ts": ts, "metrics": metrics}).encode()
    return f"facility/s1/water/{device}/telemetry".encode(), body


def count(store: SqliteTelemetryStore) -> int:
    return store.count("water", {}, "flow", 0, NOW_MS + 10**6)


def test_messages_are_acknowledged_in_order_only_after_the_spool_has_them(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path / "t.sqlite")
    acked: list[int] = []
    collector = Collector(store, tmp_path / "state", CollectorConfig(commit_points=10))
    collector.start(ack=lambda mids: acked.extend(mids))
    for i in range(25):
        collector.handle(*telemetry("p1", NOW_MS - 1000 + i, flow=float(i)), mid=i + 1)
    wait_until(lambda: len(acked) == 25, 10, "the collector")
    assert acked == list(range(1, 26))
    wait_until(lambda: count(store) == 25, 10, "the collector")
    collector.stop()


def test_store_outage_spools_and_replays_everything(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path / "t.sqlite")
    store.down = True
    collector = Collector(store, tmp_path / "state", CollectorConfig(retry_max_s=0.05))
    collector.start(ack=lambda mids: None)
    for i in range(300):
        collector.handle(*telemetry("p1", NOW_MS - 1000 + i, flow=1.0), mid=i + 1)
    wait_until(lambda: collector.stats.spooled == 300, 10, "the collector")
    wait_until(lambda: not collector.stats.store_up, 10, "the collector")
    assert collector.spool.backlog_points == 300 and count(store) == 0
    store.down = False
    wait_until(
        lambda: collector.stats.written == 300, 10, "the collector"
    )  # counted after the store took the batch
    assert count(store) == 300 and collector.stats.store_up
    collector.stop()


def test_points_the_store_refuses_are_dead_lettered_with_its_reason(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path / "t.sqlite")
    collector = Collector(store, tmp_path / "state")
    collector.start(ack=lambda mids: None)
    collector.handle(*telemetry("p1", NOW_MS - 10, flow=1.5), mid=1)
    collector.handle(*telemetry("p1", NOW_MS - 9, flow=True), mid=2)
    collector.handle(*telemetry("p1", NOW_MS - 8, flow=2.5), mid=3)
    wait_until(
        lambda: collector.stats.dead_lettered == 1 and collector.stats.written == 2,
        10,
        "the collector",
    )
    (letter,) = collector.dead_letters.list()
    assert "field type conflict" in letter.letter.reason
    assert letter.letter.topic == "store:water/s1/p1"
    assert b"flow=true" in letter.letter.payload
    collector.stop()


def test_a_restarted_collector_replays_what_it_spooled_but_never_wrote(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path / "t.sqlite")
    store.down = True
    first = Collector(store, tmp_path / "state", CollectorConfig(shutdown_flush_s=0.2))
    first.start(ack=lambda mids: None)
    for i in range(40):
        first.handle(*telemetry("p1", NOW_MS - 1000 + i, flow=1.0), mid=i + 1)
    wait_until(lambda: first.stats.spooled == 40, 10, "the collector")
    first.stop()
    store.down = False
    second = Collector(store, tmp_path / "state")
    second.start(ack=lambda mids: None)
    wait_until(
        lambda: second.stats.written == 40, 10, "the collector"
    )  # counted after the store took the batch
    assert count(store) == 40
    second.stop()


def test_device_registry_tracks_first_last_seen_and_status(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path / "t.sqlite")
    clock = [1000.0]
    collector = Collector(store, tmp_path / "state", clock=lambda: clock[0])
    collector.start(ack=lambda mids: None)
    collector.handle(*telemetry("p1", 1_000_000, flow=1.0), mid=1)
    clock[0] = 1005.0
    collector.handle(b"facility/s1/water/p1/status", b"offline", mid=2)
    wait_until(lambda: collector.stats.accepted == 2, 10, "the collector")
    collector.stop()
    from ingest.devices import DeviceRegistry

    (record,) = DeviceRegistry(tmp_path / "state" / "devices.sqlite").all()
    assert (record.first_seen_ms, record.last_seen_ms, record.online) == (
        1_000_000,
        1_005_000,
        False,
    )

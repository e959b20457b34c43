from __future__ import annotations

from pathlib import Path

from ingest.spool import Spool
from ingest.store.base import Point


def batch(start: int, n: int) -> list[Point]:
    return [
        Point(
            "water", (("device_id", "p1"), ("site", "s")), {"flow": float(i), "on": i % 2 == 0}, i
        )
        for i in range(start, start + n)
    ]


def test_batches_come_out_in_order_and_equal(tmp_path: Path) -> None:
    spool = Spool(tmp_path, fsync=False)
    spool.append(batch(0, 3))
    spool.append(batch(3, 3))
    seq, points = spool.next_batches(max_points=100)
    assert seq == 2 and points == batch(0, 6)
    spool.mark_written(seq, len(points))
    assert spool.backlog_points == 0
    assert spool.next_batches(100) == (2, [])


def test_unwritten_batches_survive_a_restart_and_written_ones_do_not(tmp_path: Path) -> None:
    spool = Spool(tmp_path, fsync=True, segment_bytes=300)
    for i in range(10):
        spool.append(batch(i * 5, 5))
    seq, points = spool.next_batches(max_points=12)
    assert (seq, len(points)) == (2, 10)
    spool.mark_written(seq, len(points))
    del spool  # no close: as after a SIGKILL
    again = Spool(tmp_path, fsync=True, segment_bytes=300)
    assert again.backlog_points == 40
    seq, points = again.next_batches(max_points=1000)
    assert seq == 10 and points == batch(10, 40)
    again.mark_written(seq, len(points))
    assert len(list(tmp_path.glob("*.seg"))) == 1  # only the open head segment remains


def test_a_torn_tail_is_dropped_on_recovery(tmp_path: Path) -> None:
    spool = Spool(tmp_path, fsync=False)
    spool.append(batch(0, 4))
    spool.close()
    segment = next(tmp_path.glob("*.seg"))
    with open(segment, "ab") as handle:
        handle.write(b"\x50\x00\x00\x00partial record")
    again = Spool(tmp_path, fsync=False)
    assert again.next_batches(100) == (1, batch(0, 4))
    again.append(batch(4, 1))
    again.mark_written(1, 4)
    assert again.next_batches(100) == (2, batch(4, 1))


def test_batches_beyond_the_cache_are_read_back_from_disk(tmp_path: Path) -> None:
    spool = Spool(tmp_path, fsync=False, cache_points=10, segment_bytes=500)
    for i in range(20):
        spool.append(batch(i * 4, 4))
    collected: list[Point] = []
    while spool.backlog_points:
        seq, points = spool.next_batches(max_points=7)
        collected.extend(points)
        spool.mark_written(seq, len(points))
    assert collected == batch(0, 80)

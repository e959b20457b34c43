"""The write-ahead spool: a durable FIFO of point batches between the broker and the store.

A batch is appended (and fsynced) before its MQTT messages are acknowledged, so a collector killed
at any moment loses nothing the broker handed over; the writer drains batches in order and marks
them written. Segment files hold length-prefixed, CRC-checked records; a torn tail left by a kill
was never acknowledged, so recovery truncates it. A small in-memory cache spares the disk read in
the common case where the store keeps up; when it does not, batches are read back from disk, which
keeps memory bounded however long the store is down.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson

from ingest.store.base import Point

log = logging.getLogger(__name__)

_HEADER = struct.Struct("<IQI")  # payload length, batch sequence number, CRC32 of the payload
_CURSOR = "written.cursor"


class SpoolCorrupt(RuntimeError):
    pass


def encode_batch(points: Sequence[Point]) -> bytes:
    return orjson.dumps([[p.measurement, p.tags, p.fields, p.ts_ms] for p in points])


def decode_batch(payload: bytes) -> list[Point]:
    return [
        Point(m, tuple((str(k), str(v)) for k, v in tags), fields, ts)
        for m, tags, fields, ts in orjson.loads(payload)
    ]


@dataclass(slots=True)
class _Segment:
    path: Path
    first_seq: int
    last_seq: int
    size: int


class Spool:
    def __init__(
        self,
        directory: Path,
        *,
        fsync: bool = True,
        segment_bytes: int = 16 * 1024 * 1024,
        cache_points: int = 200_000,
    ) -> None:
        self._dir = directory
        self._dir.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        self._segment_bytes = segment_bytes
        self._cache_limit = cache_points
        self._cache: OrderedDict[int, list[Point]] = OrderedDict()
        self._cached_points = 0
        self._lock = threading.Condition()
        self._segments: list[_Segment] = []
        self._written_seq = self._read_cursor()
        self._last_seq = self._written_seq
        self._pending_points = 0
        self._recover()
        self._head: BinaryIO | None = None
        self._reader: tuple[Path, BinaryIO] | None = None

    # -- appending (the committer thread) --------------------------------------------------

    def append(self, points: Sequence[Point]) -> int:
        """Durably append one batch; returns its sequence number."""
        payload = encode_batch(points)
        with self._lock:
            seq = self._last_seq + 1
            head = self._head_for_append()
            head.write(_HEADER.pack(len(payload), seq, zlib.crc32(payload)) + payload)
            head.flush()
            if self._fsync:
                os.fsync(head.fileno())
            segment = self._segments[-1]
            segment.last_seq = seq
            segment.size += _HEADER.size + len(payload)
            self._last_seq = seq
            self._pending_points += len(points)
            if self._cached_points + len(points) <= self._cache_limit:
                self._cache[seq] = list(points)
                self._cached_points += len(points)
            self._lock.notify_all()
            return seq

    def _head_for_append(self) -> BinaryIO:
        if self._head is not None and self._segments[-1].size < self._segment_bytes:
            return self._head
        if self._head is not None:
            self._head.close()
        seq = self._last_seq + 1
        path = self._dir / f"{seq:020d}.seg"
        self._head = open(path, "ab")
        self._segments.append(_Segment(path, seq, seq - 1, 0))
        return self._head

    # -- draining (the writer thread) ------------------------------------------------------

    def wait_for_batches(self, timeout_s: float) -> bool:
        with self._lock:
            if self._last_seq == self._written_seq:
                self._lock.wait(timeout_s)
            return self._last_seq > self._written_seq

    def next_batches(self, max_points: int) -> tuple[int, list[Point]]:
        """The oldest unwritten batches, whole, up to about max_points (at least one batch).
        Returns (last sequence number included, points); (written_seq, []) when empty."""
        points: list[Point] = []
        seq = self._written_seq
        while seq < self._last_seq and (not points or len(points) < max_points):
            batch = self._take(seq + 1)
            if points and len(points) + len(batch) > max_points:
                break
            points.extend(batch)
            seq += 1
        return seq, points

    def _take(self, seq: int) -> list[Point]:
        with self._lock:
            cached = self._cache.get(seq)
        return cached if cached is not None else self._read_from_disk(seq)

    def mark_written(self, seq: int, points: int) -> None:
        with self._lock:
            for done in range(self._written_seq + 1, seq + 1):
                batch = self._cache.pop(done, None)
                if batch is not None:
                    self._cached_points -= len(batch)
            self._written_seq = seq
            self._pending_points -= points
            finished = [s for s in self._segments[:-1] if s.last_seq <= seq]
            self._segments = [s for s in self._segments if s not in finished]
        self._write_cursor(seq)
        for segment in finished:
            if self._reader and self._reader[0] == segment.path:
                self._reader[1].close()
                self._reader = None
            segment.path.unlink(missing_ok=True)

    @property
    def backlog_points(self) -> int:
        return self._pending_points

    @property
    def backlog_bytes(self) -> int:
        with self._lock:
            return sum(s.size for s in self._segments)

    def close(self) -> None:
        with self._lock:
            if self._head is not None:
                self._head.close()
                self._head = None
            if self._reader is not None:
                self._reader[1].close()
                self._reader = None

    # -- disk ------------------------------------------------------------------------------

    def _read_from_disk(self, seq: int) -> list[Point]:
        with self._lock:
            segment = next(s for s in self._segments if s.first_seq <= seq <= s.last_seq)
        if self._reader is None or self._reader[0] != segment.path:
            if self._reader is not None:
                self._reader[1].close()
            self._reader = (segment.path, open(segment.path, "rb"))
        handle = self._reader[1]
        for rescan in (False, True):
            if rescan:
                handle.seek(0)  # the reader was past seq: scan the segment from its start
            while (record := _read_record(handle)) is not None:
                if record[0] == seq:
                    return decode_batch(record[1])
                if record[0] > seq:
                    break
        raise SpoolCorrupt(f"batch {seq} missing from {segment.path}")

    def _recover(self) -> None:
        for path in sorted(self._dir.glob("*.seg")):
            first = last = None
            good = 0
            with open(path, "rb") as handle:
                while (record := _read_record(handle)) is not None:
                    first = record[0] if first is None else first
                    last = record[0]
                    good = handle.tell()
            if path.stat().st_size != good:
                log.warning(
                    "spool %s: dropping a torn tail (%s bytes)",
                    path.name,
                    path.stat().st_size - good,
                )
                with open(path, "r+b") as handle:
                    handle.truncate(good)
            if first is None or last is None or last <= self._written_seq:
                path.unlink()
                continue
            self._segments.append(_Segment(path, first, last, good))
            self._last_seq = max(self._last_seq, last)
            self._pending_points += self._count_unwritten(path)
        if self._segments:
            log.info(
                "spool: %d unwritten points in %d segments to replay",
                self._pending_points,
                len(self._segments),
            )

    def _count_unwritten(self, path: Path) -> int:
        total = 0
        with open(path, "rb") as handle:
            while (record := _read_record(handle)) is not None:
                if record[0] > self._written_seq:
                    total += len(orjson.loads(record[1]))
        return total

    def _read_cursor(self) -> int:
        try:
            return int((self._dir / _CURSOR).read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def _write_cursor(self, seq: int) -> None:
        # No fsync: a stale cursor after a power cut only replays batches, and replays are
        # idempotent in the store.
        tmp = self._dir / (_CURSOR + ".tmp")
        tmp.write_text(str(seq))
        tmp.replace(self._dir / _CURSOR)


def _read_record(handle: BinaryIO) -> tuple[int, bytes] | None:
    header = handle.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    length, seq, crc = _HEADER.unpack(header)
    payload = handle.read(length)
    if len(payload) < length or zlib.crc32(payload) != crc:
        return None
    return seq, payload

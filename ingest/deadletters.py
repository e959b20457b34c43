"""Dead letters: every message or point that could not be ingested, with the reason. Append-only."""

from __future__ import annotations

import builtins
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.readings import DeadLetter

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_ms INTEGER NOT NULL,
    topic TEXT NOT NULL,
    reason TEXT NOT NULL,
    payload BLOB NOT NULL
);
"""
# Added for held messages (an unmapped device's): asked to be replayed, and replayed when.
_COLUMNS = {"replay_requested": "INTEGER NOT NULL DEFAULT 0", "replayed_ms": "INTEGER"}


@dataclass(slots=True, frozen=True)
class StoredDeadLetter:
    id: int
    letter: DeadLetter


class DeadLetterStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        present = {row[1] for row in self._db.execute("PRAGMA table_info(dead_letters)")}
        for column, kind in _COLUMNS.items():
            if column not in present:
                self._db.execute(f"ALTER TABLE dead_letters ADD COLUMN {column} {kind}")
        self._lock = threading.Lock()

    def append(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO dead_letters (received_ms, topic, reason, payload) "
                "VALUES (?, ?, ?, ?)",
                [(d.received_ms, d.topic, d.reason, d.payload) for d in letters],
            )
            self._db.execute("COMMIT")

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM dead_letters").fetchone()[0])

    def list(self, limit: int = 100, after_id: int = 0) -> list[StoredDeadLetter]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, received_ms, topic, reason, payload FROM dead_letters "
                "WHERE id > ? ORDER BY id LIMIT ?",
                (after_id, limit),
            ).fetchall()
        return [
            StoredDeadLetter(row[0], DeadLetter(row[2], bytes(row[4]), row[3], row[1]))
            for row in rows
        ]

    def held(self, reason: str, limit: int = 10_000) -> builtins.list[StoredDeadLetter]:
        """Letters with this reason not replayed yet, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, received_ms, topic, reason, payload FROM dead_letters "
                "WHERE reason = ? AND replayed_ms IS NULL ORDER BY id LIMIT ?",
                (reason, limit),
            ).fetchall()
        return [
            StoredDeadLetter(row[0], DeadLetter(row[2], bytes(row[4]), row[3], row[1]))
            for row in rows
        ]

    def request_replay(self, reason: str) -> int:
        """Ask the collector to replay the held letters with this reason; how many."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE dead_letters SET replay_requested = 1 "
                "WHERE reason = ? AND replayed_ms IS NULL",
                (reason,),
            )
            return cursor.rowcount

    def replay_requests(self, limit: int = 5_000) -> builtins.list[StoredDeadLetter]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, received_ms, topic, reason, payload FROM dead_letters "
                "WHERE replay_requested = 1 AND replayed_ms IS NULL ORDER BY id LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            StoredDeadLetter(row[0], DeadLetter(row[2], bytes(row[4]), row[3], row[1]))
            for row in rows
        ]

    def replayed(self, ids: Sequence[int], now_ms: int) -> None:
        self._update(
            "UPDATE dead_letters SET replayed_ms = ?, replay_requested = 0 WHERE id = ?",
            [(now_ms, i) for i in ids],
        )

    def still_held(self, ids: Sequence[int]) -> None:
        self._update(
            "UPDATE dead_letters SET replay_requested = 0 WHERE id = ?", [(i,) for i in ids]
        )

    def pending_replays(self) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM dead_letters "
                "WHERE replay_requested = 1 AND replayed_ms IS NULL"
            ).fetchone()
        return int(row[0])

    def _update(self, sql: str, rows: Sequence[tuple[int, ...]]) -> None:
        if not rows:
            return
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(sql, rows)
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

"""Dead letters: every message or point that could not be ingested, with the reason. Append-only."""

from __future__ import annotations

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

    def close(self) -> None:
        with self._lock:
            self._db.close()

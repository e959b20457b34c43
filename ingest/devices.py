"""Device registry: first seen, last seen and online state of every device that spoke to us, and
the newest text it reported (its attributes: a connector's name, a firmware version)."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from ingest.readings import DeviceKey

_SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    site TEXT NOT NULL,
    system TEXT NOT NULL,
    device_id TEXT NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    online INTEGER NOT NULL,
    PRIMARY KEY (site, system, device_id)
);
CREATE TABLE IF NOT EXISTS device_attributes (
    site TEXT NOT NULL,
    system TEXT NOT NULL,
    device_id TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    PRIMARY KEY (site, system, device_id, name)
);
"""


@dataclass(slots=True)
class DeviceRecord:
    device: DeviceKey
    first_seen_ms: int
    last_seen_ms: int
    online: bool


@dataclass(slots=True, frozen=True)
class Attribute:
    value: str
    ts_ms: int  # when the device reported it


class DeviceRegistry:
    """Updated in memory on the hot path; flush() persists what changed since the last flush."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._devices: dict[DeviceKey, DeviceRecord] = {}
        self._dirty: set[DeviceKey] = set()
        self._attributes: dict[DeviceKey, dict[str, Attribute]] = {}
        self._dirty_attributes: set[tuple[DeviceKey, str]] = set()
        for site, system, device_id, first, last, online in self._db.execute(
            "SELECT * FROM devices"
        ):
            key = DeviceKey(site, system, device_id)
            self._devices[key] = DeviceRecord(key, first, last, bool(online))
        for site, system, device_id, name, value, ts_ms in self._db.execute(
            "SELECT * FROM device_attributes"
        ):
            key = DeviceKey(site, system, device_id)
            self._attributes.setdefault(key, {})[name] = Attribute(value, ts_ms)

    def seen(self, device: DeviceKey, now_ms: int, online: bool = True) -> None:
        with self._lock:
            record = self._devices.get(device)
            if record is None:
                self._devices[device] = DeviceRecord(device, now_ms, now_ms, online)
            else:
                record.last_seen_ms = max(record.last_seen_ms, now_ms)
                record.online = online
            self._dirty.add(device)

    def report(self, device: DeviceKey, values: dict[str, str], ts_ms: int) -> None:
        """Text values the device reported at ts_ms; an older report does not overwrite."""
        with self._lock:
            known = self._attributes.setdefault(device, {})
            for name, value in values.items():
                old = known.get(name)
                if old is None or old.ts_ms <= ts_ms:
                    known[name] = Attribute(value, ts_ms)
                    self._dirty_attributes.add((device, name))

    def attributes(self, device: DeviceKey) -> dict[str, Attribute]:
        with self._lock:
            return dict(self._attributes.get(device, {}))

    def flush(self) -> None:
        with self._lock:
            texts = [
                (k.site, k.system, k.device_id, n, a.value, a.ts_ms)
                for k, n in self._dirty_attributes
                for a in (self._attributes[k][n],)
            ]
            self._dirty_attributes.clear()
            if texts:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT INTO device_attributes VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO "
                    "UPDATE SET value = excluded.value, ts_ms = excluded.ts_ms",
                    texts,
                )
                self._db.execute("COMMIT")
            rows = [
                (k.site, k.system, k.device_id, r.first_seen_ms, r.last_seen_ms, int(r.online))
                for k in self._dirty
                for r in (self._devices[k],)
            ]
            self._dirty.clear()
            if rows:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT INTO devices VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                    "last_seen_ms = excluded.last_seen_ms, online = excluded.online",
                    rows,
                )
                self._db.execute("COMMIT")

    def all(self) -> list[DeviceRecord]:
        with self._lock:
            return sorted(
                (
                    DeviceRecord(r.device, r.first_seen_ms, r.last_seen_ms, r.online)
                    for r in self._devices.values()
                ),
                key=lambda r: (r.device.site, r.device.system, r.device.device_id),
            )

    def close(self) -> None:
        self.flush()
        with self._lock:
            self._db.close()

"""The devices the equipment ledger names (an asset's device ids, with its site and system).

Both asks come on the collector's MQTT thread, so the answer comes from a set read in one query
and kept; a name missing from it makes the set be read again, at most every `reload_s` (an
asset mapped by an admin is taken up within that time, a flood of unknown names costs one query
per `reload_s`). `LedgerDeviceKeys` keeps the set; `LedgerIdentity` matches gateway devices to
it; the alarm stage's `LedgerDevices` lets only its devices raise alarms."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import select

from ingest.readings import DeviceKey
from maintenance.assets.models import Asset, AssetDevice, Site
from maintenance.storage.db import Database


class LedgerDeviceKeys:
    def __init__(
        self,
        database: Database,
        *,
        reload_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.reload_s = reload_s
        self.clock = clock
        self.keys: frozenset[DeviceKey] = frozenset()
        self._loaded_at = float("-inf")
        self.lock = threading.Lock()  # held by the caller around `reload_if_due`

    def reload_if_due(self) -> bool:
        """Reads the ledger's devices again unless that was done less than `reload_s` ago;
        whether it read them."""
        if self.clock() - self._loaded_at < self.reload_s:
            return False
        self.reload()
        return True

    def reload(self) -> None:
        with self.database.read() as session:
            rows = session.execute(
                select(Site.code, Asset.system, AssetDevice.device_id)
                .join(Asset, Asset.id == AssetDevice.asset_id)
                .join(Site, Site.id == Asset.site_id)
            )
            self.keys = frozenset(
                DeviceKey(site, system.value, device) for site, system, device in rows
            )
        self._loaded_at = self.clock()


class LedgerIdentity:
    """A gateway's device name matched to the ledger: the one device with that id (in the
    site, if the source names one); two assets with the id are no match, never a guess."""

    def __init__(
        self,
        database: Database,
        *,
        reload_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ledger = LedgerDeviceKeys(database, reload_s=reload_s, clock=clock)
        self._by_id: dict[str, list[DeviceKey]] = {}

    def __call__(self, device_id: str, site: str | None) -> DeviceKey | None:
        found = self._match(device_id, site)
        if found is None:
            with self.ledger.lock:
                if self.ledger.reload_if_due():
                    self._index()
            found = self._match(device_id, site)
        return found

    def refresh(self) -> None:
        """Read the ledger now (an admin has just mapped a device, and its replay follows)."""
        with self.ledger.lock:
            self.ledger.reload()
            self._index()

    def _index(self) -> None:
        by_id: dict[str, list[DeviceKey]] = {}
        for key in self.ledger.keys:
            by_id.setdefault(key.device_id, []).append(key)
        self._by_id = by_id

    def _match(self, device_id: str, site: str | None) -> DeviceKey | None:
        keys = [k for k in self._by_id.get(device_id, ()) if site is None or k.site == site]
        return keys[0] if len(keys) == 1 else None

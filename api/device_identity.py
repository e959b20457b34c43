"""Gateway devices matched to the equipment ledger: an asset's device id names the device.

The collector's sources ask on the MQTT thread, so the answer comes from a map read in one query
and kept; a name missing from it makes the map be read again, at most every `reload_s` (an
asset mapped by an admin is taken up within that time, a flood of unknown names costs one query
per `reload_s`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import select

from ingest.readings import DeviceKey
from maintenance.assets.models import Asset, AssetDevice, Site
from maintenance.storage.db import Database


class LedgerIdentity:
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
        self._by_id: dict[str, list[DeviceKey]] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def __call__(self, device_id: str, site: str | None) -> DeviceKey | None:
        found = self._match(device_id, site)
        if found is None:
            with self._lock:
                if self.clock() - self._loaded_at >= self.reload_s:
                    self._reload()
            found = self._match(device_id, site)
        return found

    def refresh(self) -> None:
        """Read the ledger now (an admin has just mapped a device, and its replay follows)."""
        with self._lock:
            self._reload()

    def _match(self, device_id: str, site: str | None) -> DeviceKey | None:
        keys = [k for k in self._by_id.get(device_id, ()) if site is None or k.site == site]
        return keys[0] if len(keys) == 1 else None  # two assets with that id: not a guess

    def _reload(self) -> None:
        with self.database.read() as session:
            rows = session.execute(
                select(Site.code, Asset.system, AssetDevice.device_id)
                .join(Asset, Asset.id == AssetDevice.asset_id)
                .join(Site, Site.id == Asset.site_id)
            )
            by_id: dict[str, list[DeviceKey]] = {}
            for site, system, device in rows:
                by_id.setdefault(device, []).append(DeviceKey(site, system.value, device))
        self._by_id = by_id
        self._loaded_at = self.clock()

"""Which devices the equipment ledger knows: rules and anomaly models run for them only.

A device that is in no asset's `device_ids` (with the asset's site and system) is not trusted to
raise alarms, open tickets or page anyone: its messages are still stored (the collector does
that before), but here they are only counted as unmapped. One anonymous client once raised a
thousand critical alarms with retained `offline` statuses for invented device ids.

The known set is read from the database in one query and kept; a device missing from it makes
the set be read again, at most every `reload_s` (a flood of invented ids costs one query per
`reload_s`, and a device added to the ledger is taken up within that time)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ingest.readings import DeviceKey
from maintenance.assets.device_identity import LedgerDeviceKeys
from maintenance.storage.db import Database

MAX_UNMAPPED_LISTED = 1000  # beyond this many distinct unmapped devices, only counted


@dataclass(frozen=True, slots=True)
class Unmapped:
    devices: int  # distinct devices seen that the ledger does not know
    messages: int  # their messages, none of which reached the rules
    listed: tuple[DeviceKey, ...]  # the first MAX_UNMAPPED_LISTED of them


class LedgerDevices:
    def __init__(
        self,
        database: Database,
        *,
        reload_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ledger = LedgerDeviceKeys(database, reload_s=reload_s, clock=clock)
        self._lock = self.ledger.lock
        self._unmapped: dict[DeviceKey, None] = {}
        self._unmapped_devices = 0
        self._unmapped_messages = 0

    def knows(self, device: DeviceKey) -> bool:
        if device in self.ledger.keys:
            return True
        with self._lock:
            if self.ledger.reload_if_due() and device in self.ledger.keys:
                self._unmapped.pop(device, None)
                return True
            self._unmapped_messages += 1
            if device not in self._unmapped:
                self._unmapped_devices += 1
                if len(self._unmapped) < MAX_UNMAPPED_LISTED:
                    self._unmapped[device] = None
        return False

    def unmapped(self) -> Unmapped:
        with self._lock:
            return Unmapped(self._unmapped_devices, self._unmapped_messages, tuple(self._unmapped))

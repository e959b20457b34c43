"""Mapping a held gateway device to an asset, then bringing its held messages in (exactly once):
the one operation behind `POST /devices/unmapped/map` and the console's unmapped-devices page.

The mapping is the ledger's: the gateway's name for the device (its last level, as the sources
match it) becomes one of the asset's device ids, so the asset's site and system are the
device's. A name that cannot be a device id (`Switch Room Meter`) is mapped in the sources file
instead (docs/sources.md)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ingest.deadletters import DeadLetterStore
from ingest.sources.mapping import UNMAPPED, ledger_name
from ingest.sources.unmapped import unmapped_devices
from ingest.topics import IDENTIFIER
from maintenance.assets.device_identity import LedgerIdentity
from maintenance.assets.service import add_device_id, get_asset, get_site
from maintenance.errors import InvalidInput, NotFound
from maintenance.storage.db import Database

if TYPE_CHECKING:
    from api.runtime import Runtime

REPLAY_WAIT_S = 10.0  # the collector takes replay requests up within a second when idle


@dataclass(frozen=True, slots=True)
class MappedDevice:
    source: str
    device: str
    asset_id: int
    asset_code: str
    site: str
    system: str
    device_id: str
    replayed: int  # held messages of this device brought in now
    still_held: int  # of this device, still held (the collector had not answered in time)


def map_held_device(
    runtime: Runtime, database: Database, source: str, device: str, asset_id: int
) -> MappedDevice:
    router = runtime.ingest.sources
    if router is None:
        raise InvalidInput("source", "this service runs no sources file")
    found = next((s for s in router.sources if s.name == source), None)
    if found is None:
        raise InvalidInput("source", f"no source {source!r} in the sources file")
    letters = runtime.ingest.collector.dead_letters
    if _held(letters, source, device) == 0:
        raise NotFound("unmapped device", f"{source}/{device}")
    device_id = ledger_name(device)
    if not IDENTIFIER.fullmatch(device_id):
        raise InvalidInput(
            "device", f"{device!r} cannot be a device id; map it in the sources file"
        )
    with database.transaction() as s:
        asset = get_asset(s, asset_id)
        site, system = get_site(s, asset.site_id).code, asset.system.value
        if found.site is not None and found.site != site:
            raise InvalidInput("asset_id", f"source {source} is site {found.site}, not {site}")
        if found.system is not None and found.system != system:
            raise InvalidInput(
                "asset_id", f"source {source} is system {found.system}, not {system}"
            )
        add_device_id(s, asset, device_id)
        code = asset.code
    if isinstance(router.ledger, LedgerIdentity):
        router.ledger.refresh()
    before = _held(letters, source, device)
    letters.request_replay(UNMAPPED)
    deadline = time.monotonic() + REPLAY_WAIT_S
    while letters.pending_replays() and time.monotonic() < deadline:
        time.sleep(0.05)
    after = _held(letters, source, device)
    return MappedDevice(
        source, device, asset_id, code, site, system, device_id, before - after, after
    )


def _held(letters: DeadLetterStore, source: str, device: str) -> int:
    return next(
        (d.messages for d in unmapped_devices(letters) if (d.source, d.device) == (source, device)),
        0,
    )

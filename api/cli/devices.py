"""`facility devices [--unmapped]`: the device registry, and the devices nobody mapped."""

from __future__ import annotations

import argparse

from api.cli.formats import iso
from api.settings import Settings
from ingest.deadletters import DeadLetterStore
from ingest.devices import DeviceRegistry
from ingest.sources.unmapped import unmapped_devices
from maintenance.alarms.ledger import LedgerDevices
from maintenance.process import open_database


def devices_list(settings: Settings, args: argparse.Namespace) -> int:
    registry = DeviceRegistry(settings.state_dir / "devices.sqlite")
    ledger = LedgerDevices(open_database(settings)) if args.unmapped else None
    for r in registry.all():
        if ledger is not None and ledger.knows(r.device):
            continue
        state = "online " if r.online else "offline"
        print(
            f"{state} {r.device.site}/{r.device.system}/{r.device.device_id} "
            f"first {iso(r.first_seen_ms)} last {iso(r.last_seen_ms)}"
        )
    registry.close()
    path = settings.state_dir / "deadletters.sqlite"
    if args.unmapped and path.exists():
        # Gateway devices nobody mapped: not stored, their messages held until they are.
        store = DeadLetterStore(path)
        for d in unmapped_devices(store):
            print(
                f"held    {d.source}: {d.device!r} {d.messages} messages held, "
                f"last {iso(d.last_ms)} on {d.topic}; metrics {', '.join(d.metrics) or '-'}"
            )
        store.close()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    devices = sub.add_parser("devices", help="list the device registry")
    devices.add_argument(
        "--unmapped",
        action="store_true",
        help="only the devices no asset of the ledger names (they raise no alarms), and the "
        "gateway devices nobody mapped (their messages held)",
    )
    devices.set_defaults(func=devices_list)

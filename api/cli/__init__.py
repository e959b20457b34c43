"""The `facility` command: one module per noun (`facility <noun> <verb>`), each registering its
verbs; a verb is a function `<noun>_<verb>(settings, args)` that calls the same service
functions as the HTTP routes. Every module here imports only what its verbs need at start, so
`facility collect` loads no HTTP, console or document code."""

from __future__ import annotations

import argparse
import sys

from api.cli import (
    accounts,
    alarms,
    broker,
    collector,
    contractors,
    deadletters,
    devices,
    fleet,
    keys,
    ledger,
    plans,
    rules,
    service,
    sources,
    tickets,
)
from api.settings import Settings
from ingest import logs
from ingest.redact import mask_text
from maintenance.errors import MaintenanceError

NOUNS = (
    service,
    collector,
    fleet,
    deadletters,
    devices,
    sources,
    rules,
    keys,
    tickets,
    ledger,
    plans,
    alarms,
    accounts,
    contractors,
    broker,
)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="facility",
        description="run the service, run one collector, simulate a fleet, inspect state",
    )
    sub = root.add_subparsers(dest="command", required=True)
    for noun in NOUNS:
        noun.register(sub)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings()
    logs.configure(settings.log_level)
    try:
        code: int = args.func(settings, args)
    except (ValueError, MaintenanceError) as error:
        print(f"facility: {mask_text(str(error))}", file=sys.stderr)
        return 2
    return code

"""`facility assets import|export`: the equipment ledger as CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from api.settings import Settings
from maintenance.assets import csvio
from maintenance.process import open_database
from maintenance.scope import EVERYTHING


def assets_import(settings: Settings, args: argparse.Namespace) -> int:
    with open_database(settings).transaction() as s:
        report = csvio.import_assets(
            s, Path(args.file).read_text(encoding="utf-8-sig"), scope=EVERYTHING
        )
    print(f"created {report.created}, updated {report.updated}, rejected {len(report.rejected)}")
    for r in report.rejected:
        print(f"  line {r.line}: {r.field}: {r.reason}")
    return 1 if report.rejected else 0


def assets_export(settings: Settings, args: argparse.Namespace) -> int:
    with open_database(settings).transaction() as s:
        sys.stdout.write(csvio.export_assets(s, args.site, scope=EVERYTHING))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    assets = sub.add_parser("assets", help="equipment ledger").add_subparsers(
        dest="verb", required=True
    )
    load = assets.add_parser("import", help="CSV in; a per-row report of rejections")
    load.add_argument("file")
    load.set_defaults(func=assets_import)
    dump = assets.add_parser("export", help="CSV to standard output")
    dump.add_argument("--site", type=int)
    dump.set_defaults(func=assets_export)

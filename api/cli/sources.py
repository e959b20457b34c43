"""`facility sources check`: validate sources files (gateways' formats, docs/sources.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from api.settings import Settings
from ingest.sources.sourcefile import SourceFileError, load_sources


def sources_check(settings: Settings, args: argparse.Namespace) -> int:
    failed = 0
    for name in args.files:
        try:
            sources = load_sources(Path(name))
        except SourceFileError as error:
            print(f"{error}", file=sys.stderr)
            failed += 1
            continue
        formats = ", ".join(f"{s.name} ({s.format})" for s in sources)
        print(f"{name}: {len(sources)} sources ok: {formats}")
    return 1 if failed else 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sources = sub.add_parser("sources", help="gateway sources").add_subparsers(
        dest="verb", required=True
    )
    check = sources.add_parser(
        "check", help="validate sources files (file:line: field: reason on error)"
    )
    check.add_argument("files", nargs="+")
    check.set_defaults(func=sources_check)

"""`facility sources check`: validate sources files (gateways' formats, docs/sources.md)."""

from __future__ import annotations

import argparse

from api.cli.formats import check_files
from api.settings import Settings
from ingest.sources.model import Source
from ingest.sources.sourcefile import SourceFileError, load_sources


def sources_check(settings: Settings, args: argparse.Namespace) -> int:
    def summary(sources: list[Source]) -> str:
        formats = ", ".join(f"{s.name} ({s.format})" for s in sources)
        return f"{len(sources)} sources ok: {formats}"

    return check_files(args.files, load_sources, SourceFileError, summary)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sources = sub.add_parser("sources", help="gateway sources").add_subparsers(
        dest="verb", required=True
    )
    check = sources.add_parser(
        "check", help="validate sources files (file:line: field: reason on error)"
    )
    check.add_argument("files", nargs="+")
    check.set_defaults(func=sources_check)

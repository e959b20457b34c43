"""What several commands parse and print: durations like `90s`, times as ISO 8601, a body's
field errors, files checked one by one."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

T = TypeVar("T")

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def duration(text: str) -> float:
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 90s, 10m, 2h, 1d")
    return float(match.group(1)) * _UNITS[match.group(2)]


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def print_field_errors(error: ValidationError, whole: str) -> int:
    """Each field at fault as `facility: <field path>: <reason>` (exit status 2)."""
    for e in error.errors():
        where = ".".join(map(str, e["loc"])) or whole
        print(f"facility: {where}: {e['msg']}", file=sys.stderr)
    return 2


def check_files(
    names: Sequence[str],
    load: Callable[[Path], T],
    refused: type[Exception],
    summary: Callable[[T], str],
) -> int:
    """Loads each file; prints `<file>: <summary>` or the loader's `file:line` error (exit
    status 1 if any was refused)."""
    failed = 0
    for name in names:
        try:
            loaded = load(Path(name))
        except refused as error:
            print(f"{error}", file=sys.stderr)
            failed += 1
            continue
        print(f"{name}: {summary(loaded)}")
    return 1 if failed else 0

"""`facility rules check`: validate rule files (file:line: reason on error)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from api.settings import Settings
from rules.rulefile import RuleFileError, load_rules


def rules_check(settings: Settings, args: argparse.Namespace) -> int:
    failed = 0
    for name in args.files:
        try:
            rules = load_rules(Path(name))
        except RuleFileError as error:
            print(f"{error}", file=sys.stderr)
            failed += 1
            continue
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(_count_kinds(rules).items()))
        print(f"{name}: {len(rules)} rules ok ({kinds})")
    return 1 if failed else 0


def _count_kinds(rules: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for rule in rules:
        counts[rule.kind] = counts.get(rule.kind, 0) + 1
    return counts


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rules = sub.add_parser("rules", help="alarm rules").add_subparsers(dest="verb", required=True)
    check = rules.add_parser("check", help="validate rule files (file:line: reason on error)")
    check.add_argument("files", nargs="+")
    check.set_defaults(func=rules_check)

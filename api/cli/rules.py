"""`facility rules check`: validate rule files (file:line: reason on error)."""

from __future__ import annotations

import argparse
from collections import Counter

from api.cli.formats import check_files
from api.settings import Settings
from rules.model import Rule
from rules.rulefile import RuleFileError, load_rules


def rules_check(settings: Settings, args: argparse.Namespace) -> int:
    def summary(rules: list[Rule]) -> str:
        kinds = Counter(rule.kind for rule in rules)
        return f"{len(rules)} rules ok ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})"

    return check_files(args.files, load_rules, RuleFileError, summary)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rules = sub.add_parser("rules", help="alarm rules").add_subparsers(dest="verb", required=True)
    check = rules.add_parser("check", help="validate rule files (file:line: reason on error)")
    check.add_argument("files", nargs="+")
    check.set_defaults(func=rules_check)

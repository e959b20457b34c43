"""Reading rule files: YAML in, validated rules out, or an error naming the file, line and reason.

PyYAML keeps each node's position, so a validation error on `rules[3].above` points at the line
where that value (or, if it is missing, its rule) is written.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from ingest import yamlfile
from rules.model import RULE_KINDS, Rule, RuleFile


class RuleFileError(yamlfile.FileError):
    pass


def parse_rules(text: str, path: str = "<rules>") -> list[Rule]:
    root, document = yamlfile.load(text, path, RuleFileError)
    if not isinstance(document, dict):
        raise RuleFileError(path, 1, "a rule file is a mapping with a `rules:` list")
    try:
        rules = RuleFile.model_validate(document).rules
    except ValidationError as error:
        first = error.errors()[0]
        if first["type"] == "union_tag_invalid":
            first["loc"] = (*first["loc"], "kind")
        location = tuple(p for p in first["loc"] if not (isinstance(p, str) and p in RULE_KINDS))
        where = ".".join(str(p) for p in location)
        raise RuleFileError(
            path, yamlfile.line_of(root, location), f"{where}: {first['msg']}"
        ) from None
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        if rule.id in seen:
            line = yamlfile.line_of(root, ("rules", index, "id"))
            raise RuleFileError(path, line, f"rules.{index}.id: {rule.id!r} repeats")
        seen.add(rule.id)
    return rules


def load_rules(path: Path) -> list[Rule]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RuleFileError(str(path), 1, f"cannot read: {error}") from None
    return parse_rules(text, str(path))


SHIPPED = Path(__file__).parent / "shipped" / "default.yaml"


def shipped_rules() -> list[Rule]:
    return load_rules(SHIPPED)


class RuleFiles:
    """The rule files a service runs, reloaded when one changes. A file that fails to load is
    reported with its file, line and reason, and the rules already active stay active."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        self._stamps: dict[Path, float | None] = {}

    def _stamp(self, path: Path) -> float | None:
        try:
            return path.stat().st_mtime_ns / 1e9
        except OSError:
            return None

    def changed(self) -> bool:
        return any(self._stamps.get(p, -1.0) != self._stamp(p) for p in self.paths)

    def load(self) -> list[Rule]:
        """All rules of all files; raises RuleFileError for the first bad file or repeated id."""
        stamps = {p: self._stamp(p) for p in self.paths}
        rules: list[Rule] = []
        where: dict[str, Path] = {}
        for path in self.paths:
            for rule in load_rules(path):
                if rule.id in where:
                    raise RuleFileError(
                        str(path), 1, f"rule id {rule.id!r} is already defined in {where[rule.id]}"
                    )
                where[rule.id] = path
                rules.append(rule)
        self._stamps = stamps
        return rules

    def skip_current(self) -> None:
        """Remember the files as they are now, so a bad version is reported once."""
        self._stamps = {p: self._stamp(p) for p in self.paths}

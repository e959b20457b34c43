"""YAML configuration files (rule files, sources files) with `file:line: reason` errors: the
document and its node tree, so a validation error names the line it is about."""

from __future__ import annotations

from typing import Any

import yaml


class FileError(ValueError):
    def __init__(self, path: str, line: int, reason: str) -> None:
        self.path, self.line, self.reason = path, line, reason
        super().__init__(f"{path}:{line}: {reason}")


def load(text: str, path: str, error: type[FileError]) -> tuple[yaml.Node | None, Any]:
    """The node tree and the document; `error` for text that is not YAML."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), yaml.safe_load(text)
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise error(path, line, f"not valid YAML: {problem}") from None


def line_of(root: yaml.Node | None, location: tuple[int | str, ...]) -> int:
    """The line of the node a validation error's location points to (or its nearest parent)."""
    node, line = root, 1
    for part in location:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
        else:
            node = None
    return node.start_mark.line + 1 if node is not None else line

"""Reading the sources file: YAML in, validated sources out, or `file:line: field: reason`.

As with rule files, PyYAML keeps each node's position, so an error on `sources[2].format` points
at the line where that value (or, if it is missing, its source) is written.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import ValidationError

from ingest import yamlfile
from ingest.sources.model import Source, SourcesFile

log = logging.getLogger(__name__)


class SourceFileError(yamlfile.FileError):
    pass


def parse_sources(text: str, path: str = "<sources>") -> list[Source]:
    root, document = yamlfile.load(text, path, SourceFileError)
    if not isinstance(document, dict):
        raise SourceFileError(path, 1, "a sources file is a mapping with a `sources:` list")
    try:
        sources = SourcesFile.model_validate(document).sources
    except ValidationError as error:
        first = error.errors()[0]
        location = tuple(first["loc"])
        where = ".".join(str(p) for p in location)
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SourceFileError(
            path, yamlfile.line_of(root, location), f"{where}: {message}"
        ) from None
    seen: set[str] = set()
    for index, source in enumerate(sources):
        if source.name in seen:
            line = yamlfile.line_of(root, ("sources", index, "name"))
            raise SourceFileError(path, line, f"sources.{index}.name: {source.name!r} repeats")
        seen.add(source.name)
    return sources


def load_sources(path: Path) -> list[Source]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SourceFileError(str(path), 1, f"cannot read: {error}") from None
    return parse_sources(text, str(path))


class SourceFile:
    """The sources file a collector runs, reloaded when it changes. A version that fails to load
    is logged once with its file, line and reason, and the sources already active stay active."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: float | None = None

    def _current(self) -> float | None:
        try:
            return self.path.stat().st_mtime_ns / 1e9
        except OSError:
            return None

    def load(self) -> list[Source]:
        stamp = self._current()
        sources = load_sources(self.path)
        self._stamp = stamp
        return sources

    def reloaded(self) -> list[Source] | None:
        """The new sources if the file changed and loads; None otherwise."""
        stamp = self._current()
        if stamp == self._stamp:
            return None
        try:
            return self.load()
        except SourceFileError as error:
            self._stamp = stamp
            log.error("sources file not reloaded, the previous version stays active: %s", error)
            return None

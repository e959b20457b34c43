"""Names in the order a reader of the current language expects: Chinese by their pinyin
(pypinyin, the maintained library for it; the code-point order of Han characters means nothing
to a reader), any other text without regard to case."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from pypinyin import Style, lazy_pinyin

from maintenance.language.catalogue import current

T = TypeVar("T")


def sort_key(name: str, language: str | None = None) -> tuple[str, str]:
    """Pinyin with tone numbers (he2 pan4 ...), then the name itself to break ties."""
    if (language or current()) == "zh-CN":
        return (" ".join(lazy_pinyin(name, style=Style.TONE3)).casefold(), name)
    return (name.casefold(), name)


def by_name(items: Iterable[T], name: Callable[[T], str], language: str | None = None) -> list[T]:
    return sorted(items, key=lambda item: sort_key(name(item), language))

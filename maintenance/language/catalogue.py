"""The message catalogues: gettext `.po` files under `locales/`, kept by `make translations`
(Babel's extract/update). They are compiled in memory on first use, so a fresh clone runs
without a build step and a `.po` edit cannot go stale against a `.mo` beside it."""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
# BCP 47 tags, as accounts, settings and Accept-Language name them; the first is the fallback.
SUPPORTED = ("en", "zh-CN")

_current: ContextVar[str] = ContextVar("language", default="en")


def babel_locale(tag: str) -> Locale:
    return _babel_locale(tag)


@cache
def _babel_locale(tag: str) -> Locale:
    return Locale.parse(tag, sep="-")


def catalogue_path(tag: str) -> Path:
    return LOCALES_DIR / tag.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(tag: str) -> gettext.NullTranslations:
    """The compiled catalogue of a language; fuzzy entries are left out (they are not
    translations yet, and the completeness test fails on them)."""
    if tag not in SUPPORTED:
        return gettext.NullTranslations()
    with catalogue_path(tag).open("rb") as po:
        catalog = read_po(po, locale=tag.replace("-", "_"))
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def current() -> str:
    """The language of what is being said now (a request's page, a report being rendered)."""
    return _current.get()


@contextmanager
def using(tag: str) -> Iterator[None]:
    token = _current.set(tag if tag in SUPPORTED else SUPPORTED[0])
    try:
        yield
    finally:
        _current.reset(token)


def gettext_(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext_(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def in_language(tag: str, message: str) -> str:
    """A message in a given language, whatever the current one (a notification, a document)."""
    return translations(tag).gettext(message)


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is defined; it is translated where it is
    said (a table of titles at import time must not freeze one language)."""
    return message


_ = gettext_

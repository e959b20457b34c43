"""Times and numbers in the current language's conventions (CLDR, through Babel), times in the
site's time zone with the zone named, so a reader never has to guess."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from babel.numbers import format_decimal, format_percent

from maintenance.language.catalogue import babel_locale, current

# CLDR skeletons: the locale orders the fields and adds its own words ("2026年12月2日 17:05").
_DATETIME = {"en": "yyyy-MM-dd HH:mm:ss zzz", "zh-CN": "yyyy年M月d日 HH:mm:ss zzz"}


_zone: ContextVar[str] = ContextVar("zone", default="UTC")


@contextmanager
def in_zone(name: str) -> Iterator[None]:
    """Times said while it holds are in this zone (a page's, a site's report)."""
    token = _zone.set(name)
    try:
        yield
    finally:
        _zone.reset(token)


@cache
def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def when(value: datetime | None, zone_name: str | None = None) -> str:
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    tag = current()
    return format_datetime(
        value.astimezone(zone(zone_name or _zone.get())),
        _DATETIME.get(tag, _DATETIME["en"]),
        locale=babel_locale(tag),
    )


def number(value: float | int, digits: int = 1) -> str:
    return format_decimal(
        value, format=f"#,##0.{'0' * digits}" if digits else "#,##0", locale=babel_locale(current())
    )


def percent(value: float, digits: int = 1) -> str:
    return format_percent(
        value,
        format=f"#,##0.{'0' * digits}%" if digits else "#,##0%",
        locale=babel_locale(current()),
    )

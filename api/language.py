"""The language of a request: the account's choice, else Accept-Language, else the
installation's default (FACILITY_DEFAULT_LOCALE). Pages, documents and API error messages are
all said in it; field names and enum values of the API stay English."""

from __future__ import annotations

import time
from collections.abc import Collection

from fastapi import Request
from sqlalchemy import select
from starlette.requests import HTTPConnection

from maintenance.assets.models import Site
from maintenance.language.choice import choose


def default_language(request: HTTPConnection) -> str:
    runtime = getattr(request.app.state, "runtime", None)
    settings = getattr(runtime, "settings", None)
    return str(getattr(settings, "default_locale", "en"))


# Time zones of mainland China: an estate there speaks Chinese to its residents.
CHINA_ZONES = frozenset(
    {"Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "Asia/Urumqi", "PRC"}
)


def request_language(
    request: Request | HTTPConnection, account: str | None = None, *, resident: bool = False
) -> str:
    """A resident (the requester role) on a Chinese estate gets Chinese unless their account
    says otherwise: the estate's language comes before the phone's (docs/i18n.md)."""
    if resident and account is None and display_zone(request) in CHINA_ZONES:
        account = "zh-CN"
    return choose(
        account=account,
        accept_language=request.headers.get("accept-language"),
        default=default_language(request),
    )


_ZONE_TTL_S = 60.0
_zones: dict[int, tuple[float, dict[int, str]]] = {}


def display_zone(request: HTTPConnection, sites: Collection[int] | None = None) -> str:
    """The time zone pages show times in: FACILITY_TIME_ZONE, else the zone the reader's sites
    (`sites`: their scope; None: every site) all share (a Chinese estate's Asia/Shanghai),
    else UTC. The sites' zones are read at most once a minute: a page must not cost a query
    for it."""
    runtime = getattr(request.app.state, "runtime", None)
    configured = getattr(getattr(runtime, "settings", None), "time_zone", None)
    if configured:
        return str(configured)
    database = getattr(request.app.state, "database", None)
    if database is None:
        return "UTC"
    now = time.monotonic()
    cached = _zones.get(id(database))
    if cached is None or now - cached[0] >= _ZONE_TTL_S:
        with database.read() as s:
            rows = s.execute(select(Site.id, Site.timezone)).all()
            zones = {int(site_id): str(zone) for site_id, zone in rows}
        cached = _zones[id(database)] = (now, zones)
    found = {z for site_id, z in cached[1].items() if sites is None or site_id in sites}
    return found.pop() if len(found) == 1 else "UTC"

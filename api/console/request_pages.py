"""Residents' and tenants' pages on a phone (the "mobile app" channel): file a repair,
complaint or suggestion with a photo, follow it, confirm the result and rate it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from api.auth import ALL, Principal
from api.console.render import page, reader_language
from api.console.session import viewer
from api.deps import DatabaseDep, NowDep
from maintenance.assets.models import Location, Site
from maintenance.assets.service import where
from maintenance.language.catalogue import N_
from maintenance.language.collation import by_name, sort_key
from maintenance.work_orders import queries

router = APIRouter()
Anyone = Annotated[Principal, Depends(viewer(ALL))]
REQUEST_TYPES = ("repair", "complaint", "suggestion")


@router.get("/console/requests", response_class=HTMLResponse)
def my_requests(request: Request, db: DatabaseDep, now: NowDep, me: Anyone) -> HTMLResponse:
    """What a resident or tenant filed, newest first, and what each waits for from them."""
    with db.read() as s:
        f = queries.TicketFilter(requester=me.name, scope=me.scope)
        rows, _ = queries.list_tickets(s, f, now=now, limit=100, with_total=False)
    return page(request, "requests.html", me, tickets=rows, waiting=_waiting)


def _waiting(state: str, confirmed: datetime | None, rating: int | None) -> str:
    """What the request waits for from its requester, if anything."""
    if state == "resolved" and confirmed is None:
        return N_("Please check the work and confirm it")
    if state in ("resolved", "verified", "closed") and rating is None:
        return N_("Please rate the work")
    return ""


@router.get("/console/requests/new", response_class=HTMLResponse)
def new_request(request: Request, db: DatabaseDep, me: Anyone) -> HTMLResponse:
    """The form: where (a site's unit or public place), what, a photo."""
    with db.read() as s:
        sites = [(x.id, x.name) for x in s.scalars(select(Site))]
        places = [(loc.id, loc.site_id, where(loc)) for loc in s.scalars(select(Location))]
    # In the reader's order (pinyin on a Chinese page): the page renders in its language.
    language = reader_language(request, me)
    sites = by_name(sites, lambda site: site[1], language)
    places = sorted(places, key=lambda p: (p[1], sort_key(p[2], language)))
    return page(request, "request_new.html", me, sites=sites, places=places, types=REQUEST_TYPES)

"""A device's page: its newest values, telemetry charts from the telemetry store (history, and
live by re-reading the newest window), its alarms and its asset's tickets."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from api.console.render import page
from api.console.session import ControlRoom
from api.deps import DatabaseDep, NowDep
from ingest.catalogue import CATALOGUE
from ingest.store.base import TelemetryStore
from maintenance.alarms import queries as alarm_queries
from maintenance.errors import InvalidInput
from maintenance.work_orders import queries as ticket_queries

router = APIRouter()
BUCKETS = 240  # points per chart: enough for a screen's width, few enough to draw at once


def _store(request: Request) -> TelemetryStore:
    store: TelemetryStore = request.app.state.runtime.ingest.store
    return store


def _system(system: str) -> str:
    if system not in CATALOGUE:
        raise InvalidInput("system", f"unknown system {system!r}; one of {', '.join(CATALOGUE)}")
    return system


@router.get("/console/devices/{site}/{system}/{device_id}", response_class=HTMLResponse)
def device_page(
    request: Request,
    site: str,
    system: str,
    device_id: str,
    db: DatabaseDep,
    now: NowDep,
    me: ControlRoom,
) -> HTMLResponse:
    tags = {"site": site, "device_id": device_id}
    latest = _store(request).latest(_system(system), tags).get(device_id)
    with db.read() as s:
        alarms, _ = alarm_queries.list_alarms(s, site=site, device_id=device_id, limit=50)
        asset_ids = {a.asset_id for a in alarms if a.asset_id is not None}
        tickets = [
            t
            for asset_id in sorted(asset_ids)
            for t in ticket_queries.list_tickets(
                s, ticket_queries.TicketFilter(asset_id=asset_id), now=now, with_total=False
            )[0]
        ]
    gauges = [m for m in CATALOGUE[system] if m.kind == "gauge"]
    return page(
        request,
        "device.html",
        me,
        site=site,
        system=system,
        device_id=device_id,
        latest=latest,
        gauges=gauges,
        alarms=alarms,
        tickets=tickets,
    )


@router.get("/console/devices/{site}/{system}/{device_id}/series")
async def series(
    request: Request,
    site: str,
    system: str,
    device_id: str,
    metric: str,
    now: NowDep,
    me: ControlRoom,
    hours: Annotated[float, Query(gt=0, le=24 * 366)] = 24,
) -> dict[str, Any]:
    """One metric's mean/min/max in BUCKETS buckets over the last `hours`, for a chart."""
    end_ms = int(now.timestamp() * 1000)
    start_ms = end_ms - int(hours * 3_600_000)
    interval = max(1000, (end_ms - start_ms) // BUCKETS)
    rows = await run_in_threadpool(
        _store(request).aggregate,
        _system(system),
        {"site": site, "device_id": device_id},
        metric,
        start_ms,
        end_ms,
        interval,
    )
    return {
        "metric": metric,
        "start_ms": start_ms,
        "end_ms": end_ms,
        "points": [[r.start_ms, r.mean, r.min, r.max] for r in rows],
    }

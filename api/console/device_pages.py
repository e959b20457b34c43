"""A device's page: its newest values, telemetry charts from the telemetry store (history, and
live by re-reading the newest window), its alarms and its asset's tickets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from api.console.render import page
from api.console.session import ControlRoom
from api.deps import DatabaseDep, NowDep
from ingest.catalogue import CATALOGUE
from ingest.readings import DeviceKey
from ingest.store.base import TelemetryStore
from maintenance.alarms import queries as alarm_queries
from maintenance.alarms.models import Alarm
from maintenance.alarms.tickets import is_anomaly
from maintenance.assets.service import asset_for_device, labels
from maintenance.errors import InvalidInput, NotFound
from maintenance.language.catalogue import gettext_
from maintenance.language.metrics import metric_said, unit_said
from maintenance.work_orders import queries as ticket_queries
from rules.scoring import drivers_of

router = APIRouter()
BUCKETS = 240  # points per chart: enough for a screen's width, few enough to draw at once
HIDDEN_FIELDS = frozenset({"seq"})  # the contract's bookkeeping, nothing a person reads
UNITLESS = frozenset({"bool", "1", ""})  # a flag's yes/no or a ratio needs no unit after it


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
        alarms, _ = alarm_queries.list_alarms(
            s, scope=me.scope, site=site, device_id=device_id, limit=50
        )
        # The ledger says whose device it is (not only its alarms: an open inspection counts).
        asset = asset_for_device(s, site, device_id)
        if not me.scope.admits_code(site, asset.id if asset is not None else None):
            raise NotFound("device", device_id)  # outside the viewer's sites: not there
        tickets = (
            ticket_queries.list_tickets(
                s,
                ticket_queries.TicketFilter(asset_id=asset.id, scope=me.scope),
                now=now,
                with_total=False,
            )[0]
            if asset is not None
            else []
        )
        asset_name = str(labels(s, {asset.id})[asset.id]) if asset is not None else None
    gauges = [m for m in CATALOGUE[system] if m.kind == "gauge"]
    return page(
        request,
        "device.html",
        me,
        site=site,
        system=system,
        device_id=device_id,
        latest=latest,
        # Said while the page renders, in its reader's language.
        values=lambda: newest_values(system, latest.fields) if latest else [],
        asset_name=asset_name,
        gauges=gauges,
        alarms=alarms,
        tickets=tickets,
        drivers=finding_drivers(alarms),
        # Text the device reported (a firmware version, a connector's name): not a metric.
        attributes=sorted(
            request.app.state.runtime.ingest.collector.devices.attributes(
                DeviceKey(site, system, device_id)
            ).items()
        ),
    )


@dataclass(frozen=True, slots=True)
class Driver:
    """A metric behind a standing anomaly finding: its part of the score and the range the
    model learned as normal (drawn on its chart)."""

    share: float
    low: float | None
    high: float | None


def finding_drivers(alarms: Sequence[Alarm]) -> dict[str, Driver]:
    """The metrics behind the device's newest standing anomaly finding, from its alarm values
    (`drivers`, `<metric> normal` as "low .. high", `<metric> share`)."""
    standing = [a for a in alarms if is_anomaly(a.rule_id) and a.state.standing]
    if not standing:
        return {}
    values = max(standing, key=lambda a: a.raised_at or a.updated_at).values or {}
    out = {}
    for name in drivers_of(values):
        low, _, high = str(values.get(f"{name} normal", "")).partition("..")
        out[name] = Driver(_float(values.get(f"{name} share")) or 0.0, _float(low), _float(high))
    return out


def _float(value: object) -> float | None:
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def newest_values(system: str, fields: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(what, value, unit) for a person: the catalogue's words and units, numbers to a sensible
    precision, flags as yes/no; the message sequence number and the like left out."""
    known = {m.name: m for m in CATALOGUE[system]}
    out = []
    for name, value in sorted(fields.items(), key=lambda f: (f[0] not in known, f[0])):
        if name in HIDDEN_FIELDS:
            continue
        metric = known.get(name)
        label = metric_said(name, metric.description if metric else None)
        unit = unit_said(metric.unit) if metric and metric.unit not in UNITLESS else ""
        out.append((label, _shown(value), unit))
    return out


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return gettext_("yes") if value else gettext_("no")
    if isinstance(value, float):
        if value.is_integer():
            return f"{value:,.0f}"
        return f"{value:,.2f}" if abs(value) >= 10 else f"{value:.3g}"
    return str(value)


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
    if not me.scope.admits_code(site, None):
        raise NotFound("device", device_id)
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

"""The control room's pages: the live alarm list and every site's five systems at a glance."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.console.render import page
from api.console.session import ControlRoom
from api.deps import AlarmsDep, DatabaseDep
from ingest.catalogue import SYSTEMS
from maintenance.alarms import queries
from maintenance.alarms.lifecycle import AlarmState
from maintenance.alarms.models import Alarm
from maintenance.alarms.transitions import ACTIVE_STATES
from maintenance.assets.models import Site
from maintenance.scope import Scope

router = APIRouter()
LIST_LIMIT = 300


def _alarm_list(s: Session, scope: Scope) -> dict[str, Any]:
    rows, total = queries.list_alarms(s, scope=scope, standing=True, limit=LIST_LIMIT)
    return {
        "alarms": rows,
        "total": total,
        "limit": LIST_LIMIT,
        "floods": queries.floods(s, scope=scope, active=True),
        "unacknowledged": sum(
            1
            for a in rows
            if a.state in (AlarmState.active_unacknowledged, AlarmState.cleared_unacknowledged)
        ),
    }


@router.get("/console/alarms", response_class=HTMLResponse)
def alarms_page(request: Request, db: DatabaseDep, me: ControlRoom) -> HTMLResponse:
    with db.read() as s:
        return page(request, "alarms.html", me, **_alarm_list(s, me.scope))


@router.get("/console/alarms/rows", response_class=HTMLResponse)
def alarm_rows(request: Request, db: DatabaseDep, me: ControlRoom) -> HTMLResponse:
    """The list alone: what the page fetches when the live feed says something changed."""
    with db.read() as s:
        return page(request, "_alarm_list.html", me, **_alarm_list(s, me.scope))


@dataclass
class SystemStatus:
    normal: int = 0
    alarm: int = 0
    offline: int = 0
    devices: list[tuple[str, str]] = field(default_factory=list)  # (device_id, status)

    @property
    def status(self) -> str:
        return "offline" if self.offline else "alarm" if self.alarm else "normal"


def site_status(
    s: Session, seen: list[tuple[str, str, str, bool]], offline_rules: set[str], scope: Scope
) -> dict[str, dict[str, SystemStatus]]:
    """Per site and system: devices normal, in alarm (an active alarm) or offline (a last will,
    or an active offline alarm). Devices come from the collector's registry and the alarms;
    the viewer's sites only."""
    status: dict[tuple[str, str, str], str] = {}
    for site, system, device_id, online in seen:
        if scope.admits_code(site, None):
            status[(site, system, device_id)] = "normal" if online else "offline"
    active = s.execute(
        select(Alarm.site, Alarm.system, Alarm.device_id, Alarm.rule_id).where(
            Alarm.state.in_(ACTIVE_STATES), scope.where(Alarm.site_id, Alarm.asset_id)
        )
    )
    for site, system, device_id, rule_id in active:
        key = (site, system, device_id)
        if rule_id in offline_rules:
            status[key] = "offline"
        elif status.get(key) != "offline":
            status[key] = "alarm"
    codes = select(Site.code).where(scope.where_site(Site.id))
    sites = {code for (code,) in s.execute(codes)} | {k[0] for k in status}
    out: dict[str, dict[str, SystemStatus]] = {
        site: {system: SystemStatus() for system in SYSTEMS} for site in sorted(sites)
    }
    for (site, system, device_id), state in sorted(status.items()):
        systems = out[site]
        if system not in systems:
            systems[system] = SystemStatus()
        entry = systems[system]
        setattr(entry, state, getattr(entry, state) + 1)
        entry.devices.append((device_id, state))
    return out


@router.get("/console/sites", response_class=HTMLResponse)
def sites_page(
    request: Request, db: DatabaseDep, alarms: AlarmsDep, me: ControlRoom
) -> HTMLResponse:
    runtime = request.app.state.runtime
    seen = [
        (r.device.site, r.device.system, r.device.device_id, r.online)
        for r in runtime.ingest.collector.devices.all()
    ]
    offline_rules = {r.id for r in alarms.engine.rules if r.kind == "offline"}
    with db.read() as s:
        sites = site_status(s, seen, offline_rules, me.scope)
    totals = Counter(
        entry.status for systems in sites.values() for entry in systems.values() if entry.devices
    )
    return page(request, "sites.html", me, sites=sites, systems=SYSTEMS, totals=totals)

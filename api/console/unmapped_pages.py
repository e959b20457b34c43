"""The devices a gateway reports that nobody has mapped: their held messages, last payload and
metrics, and a form that maps one to an asset and replays what it held (api.device_mapping)."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from api.auth import OFFICE, Principal
from api.console.render import page
from api.console.session import viewer
from api.deps import DatabaseDep
from ingest.sources.mapping import ledger_name
from ingest.sources.unmapped import unmapped_devices
from ingest.topics import IDENTIFIER
from maintenance.assets.models import Asset, Site

router = APIRouter()
Office = Annotated[Principal, Depends(viewer(OFFICE))]  # who may map them (the API's rule)


@router.get("/console/devices/unmapped", response_class=HTMLResponse)
def unmapped_page(request: Request, db: DatabaseDep, me: Office) -> HTMLResponse:
    runtime = request.app.state.runtime
    sources = runtime.ingest.sources
    by_name = {s.name: s for s in sources.sources} if sources is not None else {}
    # Held devices are in no ledger site yet: for whoever sees every site (as the API's list).
    held = unmapped_devices(runtime.ingest.collector.dead_letters) if me.scope.everything else []
    with db.read() as s:
        assets = s.execute(
            select(Asset.id, Asset.code, Asset.name, Site.code, Asset.system)
            .join(Site, Site.id == Asset.site_id)
            .where(me.scope.where(Asset.site_id, Asset.id))
            .order_by(Site.code, Asset.code)
        ).all()
    rows = []
    for device in held:
        source = by_name.get(device.source)
        # The assets the source's site and system allow (all, where the source leaves them open).
        fits = [
            (asset_id, f"{code} {name or ''} ({site}, {system.value})".replace("  ", " "))
            for asset_id, code, name, site, system in assets
            if source is None
            or (source.site in (None, site) and source.system in (None, system.value))
        ]
        rows.append(
            {
                "device": device,
                "payload": orjson.dumps(device.last_payload, option=orjson.OPT_INDENT_2).decode(),
                "mappable": IDENTIFIER.fullmatch(ledger_name(device.device)) is not None,
                "assets": fits,
            }
        )
    return page(request, "unmapped.html", me, rows=rows, sources_file=sources is not None)

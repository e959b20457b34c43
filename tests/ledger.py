"""A small equipment ledger and roster for work-order tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from maintenance.assets.schemas import AssetCreate, LocationCreate, SiteCreate
from maintenance.assets.service import create_location, create_site, save_asset
from maintenance.dispatch.roster import TeamCreate, TechnicianCreate, create_team, create_technician
from maintenance.storage.db import Database

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@dataclass
class Ledger:
    site: int
    other_site: int
    lobby: int
    lift: int
    pump: int
    camera: int
    wang: int  # elevator + water, site 1
    li: int  # elevator, site 1
    zhao: int  # camera, other site


def seed(db: Database) -> Ledger:
    with db.transaction() as s:
        site = create_site(
            s,
            SiteCreate(
                code="estate-1", name="Riverside", supervisor="sup-chen", timezone="Asia/Shanghai"
            ),
        )
        other = create_site(s, SiteCreate(code="tower-2", name="Tower"))
        lobby = create_location(
            s, LocationCreate(site_id=site.id, building="A", floor="1", room="lobby")
        )
        lift = save_asset(
            s,
            AssetCreate(
                site_id=site.id,
                code="LIFT-A1",
                system="elevator",
                type="traction lift",
                location_id=lobby.id,
                device_ids=["elevator-001"],
            ),
        )
        pump = save_asset(
            s,
            AssetCreate(
                site_id=site.id,
                code="PUMP-1",
                system="water",
                type="booster pump",
                device_ids=["water-001"],
            ),
        )
        camera = save_asset(
            s, AssetCreate(site_id=site.id, code="CAM-1", system="camera", type="dome camera")
        )
        team = create_team(s, TeamCreate(name="estate-1 engineering", supervisor="sup-team"))
        wang = create_technician(
            s,
            TechnicianCreate(
                name="Wang", skills=["elevator", "water"], site_ids=[site.id], team_id=team.id
            ),
        )
        li = create_technician(
            s, TechnicianCreate(name="Li", skills=["elevator"], site_ids=[site.id], team_id=team.id)
        )
        zhao = create_technician(
            s, TechnicianCreate(name="Zhao", skills=["camera"], site_ids=[other.id])
        )
        return Ledger(
            site.id, other.id, lobby.id, lift.id, pump.id, camera.id, wang.id, li.id, zhao.id
        )

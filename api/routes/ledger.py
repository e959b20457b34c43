"""Sites, locations and assets: the equipment ledger, with CSV import and export."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from api.auth import PrincipalDep
from api.deps import DatabaseDep
from maintenance.assets import csvio
from maintenance.assets.models import Asset, Location
from maintenance.assets.schemas import (
    AssetCreate,
    AssetRead,
    LocationCreate,
    LocationRead,
    SiteCreate,
    SiteRead,
)
from maintenance.assets.service import (
    assets,
    create_location,
    create_site,
    save_asset,
    sites,
    visible_asset,
    visible_site,
)
from maintenance.errors import InvalidInput
from maintenance.vocabulary import MAX_ID, Id
from maintenance.work_orders import disclosure, queries
from maintenance.work_orders.schemas import TicketRead

router = APIRouter(tags=["equipment ledger"])
# What a requester needs to file a request (where it is, which equipment): readable by everyone.
directory = APIRouter(tags=["equipment ledger"])


def asset_read(asset: Asset) -> AssetRead:
    return AssetRead.model_validate(asset)


@router.post("/sites", status_code=201)
def post_site(data: SiteCreate, db: DatabaseDep, principal: PrincipalDep) -> SiteRead:
    """A new site; by someone who sees every site (a site-scoped account would not see it)."""
    if not principal.scope.everything:
        raise InvalidInput("code", "only an account that sees every site adds sites")
    with db.transaction() as s:
        return SiteRead.model_validate(create_site(s, data))


@directory.get("/sites")
def list_sites(db: DatabaseDep, principal: PrincipalDep) -> list[SiteRead]:
    """The sites of the caller's scope."""
    with db.transaction() as s:
        return [SiteRead.model_validate(x) for x in sites(s, scope=principal.scope)]


@directory.get("/sites/{site_id}")
def read_site(site_id: Id, db: DatabaseDep, principal: PrincipalDep) -> SiteRead:
    with db.transaction() as s:
        return SiteRead.model_validate(visible_site(s, site_id, scope=principal.scope))


class RiskClass(BaseModel):
    model_config = ConfigDict(extra="forbid")
    risk_class: Literal["normal", "hazardous"]


@router.put("/sites/{site_id}/risk-class")
def put_risk_class(
    site_id: Id, data: RiskClass, db: DatabaseDep, principal: PrincipalDep
) -> SiteRead:
    """A site's lightning risk class: hazardous (explosion or fire hazard) sites test their
    lightning protection half-yearly, others yearly (docs/maintenance-plans.md)."""
    with db.transaction() as s:
        site = visible_site(s, site_id, scope=principal.scope)
        site.risk_class = data.risk_class
        return SiteRead.model_validate(site)


@router.post("/locations", status_code=201)
def post_location(data: LocationCreate, db: DatabaseDep, principal: PrincipalDep) -> LocationRead:
    with db.transaction() as s:
        visible_site(s, data.site_id, scope=principal.scope)
        return LocationRead.model_validate(create_location(s, data))


@directory.get("/sites/{site_id}/locations")
def list_locations(site_id: Id, db: DatabaseDep, principal: PrincipalDep) -> list[LocationRead]:
    with db.transaction() as s:
        visible_site(s, site_id, scope=principal.scope)
        rows = s.scalars(select(Location).where(Location.site_id == site_id).order_by(Location.id))
        return [LocationRead.model_validate(x) for x in rows]


@router.post("/assets", status_code=201)
def post_asset(data: AssetCreate, db: DatabaseDep, principal: PrincipalDep) -> AssetRead:
    with db.transaction() as s:
        visible_site(s, data.site_id, scope=principal.scope)
        return asset_read(save_asset(s, data))


@router.put("/assets/{asset_id}")
def put_asset(
    asset_id: Id, data: AssetCreate, db: DatabaseDep, principal: PrincipalDep
) -> AssetRead:
    with db.transaction() as s:
        asset = visible_asset(s, asset_id, scope=principal.scope)
        visible_site(s, data.site_id, scope=principal.scope)
        return asset_read(save_asset(s, data, asset))


@directory.get("/assets")
def list_assets(
    db: DatabaseDep,
    principal: PrincipalDep,
    site_id: Id | None = None,
    system: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[AssetRead]:
    """The assets of the caller's scope (a contractor's people: their company's)."""
    with db.transaction() as s:
        found = assets(
            s, scope=principal.scope, site_id=site_id, system=system, limit=limit, offset=offset
        )
        return [asset_read(a) for a in found]


@directory.get("/assets/{asset_id}")
def read_asset(asset_id: Id, db: DatabaseDep, principal: PrincipalDep) -> AssetRead:
    with db.transaction() as s:
        return asset_read(visible_asset(s, asset_id, scope=principal.scope))


@router.get("/assets/{asset_id}/history")
def asset_history(
    asset_id: Id,
    db: DatabaseDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[TicketRead]:
    """Every work order that touched the asset (repairs, inspections, alarms), newest first;
    who filed each only for those who may read it (docs/security.md, personal data)."""
    with db.transaction() as s:
        visible_asset(s, asset_id, scope=principal.scope)
        out = [
            TicketRead.model_validate(t)
            for t in queries.asset_history(
                s, asset_id, scope=principal.scope, limit=limit, offset=offset
            )
        ]
    hidden = disclosure.redactions(principal)
    return [ticket.model_copy(update=hidden) for ticket in out] if hidden else out


@router.post(
    "/assets/import",
    openapi_extra={
        "requestBody": {
            "content": {
                "text/csv": {
                    "example": "site_code,code,system,type,building,device_ids\n"
                    "estate-1,LIFT-A1,elevator,traction lift,A,elevator-001\n"
                }
            }
        }
    },
)
def import_assets(
    db: DatabaseDep, principal: PrincipalDep, body: Annotated[str, Body(media_type="text/csv")]
) -> dict[str, Any]:
    """Creates or updates assets by (site_code, code); answers a per-row report. A bad row never
    discards the good ones; a site outside the caller's scope is an unknown site."""
    with db.transaction() as s:
        report = csvio.import_assets(s, body, scope=principal.scope)
    return {
        "created": report.created,
        "updated": report.updated,
        "rejected": [asdict(r) for r in report.rejected],
    }


@router.get("/assets.csv", response_class=PlainTextResponse)
def export_assets(
    db: DatabaseDep, principal: PrincipalDep, site_id: Id | None = None
) -> PlainTextResponse:
    with db.transaction() as s:
        text = csvio.export_assets(s, site_id, scope=principal.scope)
    return PlainTextResponse(text, media_type="text/csv")

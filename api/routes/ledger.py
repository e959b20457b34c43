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
from maintenance.assets.models import Asset, Location, Site
from maintenance.assets.schemas import (
    AssetCreate,
    AssetRead,
    LocationCreate,
    LocationRead,
    SiteCreate,
    SiteRead,
)
from maintenance.assets.service import (
    create_location,
    create_site,
    get_asset,
    get_site,
    save_asset,
)
from maintenance.vocabulary import MAX_ID, Id
from maintenance.work_orders import disclosure, queries
from maintenance.work_orders.schemas import TicketRead

router = APIRouter(tags=["equipment ledger"])
# What a requester needs to file a request (where it is, which equipment): readable by everyone.
directory = APIRouter(tags=["equipment ledger"])


def asset_read(asset: Asset) -> AssetRead:
    return AssetRead.model_validate(asset)


@router.post("/sites", status_code=201)
def post_site(data: SiteCreate, db: DatabaseDep) -> SiteRead:
    with db.transaction() as s:
        return SiteRead.model_validate(create_site(s, data))


@directory.get("/sites")
def list_sites(db: DatabaseDep) -> list[SiteRead]:
    with db.transaction() as s:
        return [SiteRead.model_validate(x) for x in s.scalars(select(Site).order_by(Site.id))]


@directory.get("/sites/{site_id}")
def read_site(site_id: Id, db: DatabaseDep) -> SiteRead:
    with db.transaction() as s:
        return SiteRead.model_validate(get_site(s, site_id))


class RiskClass(BaseModel):
    model_config = ConfigDict(extra="forbid")
    risk_class: Literal["normal", "hazardous"]


@router.put("/sites/{site_id}/risk-class")
def put_risk_class(site_id: Id, data: RiskClass, db: DatabaseDep) -> SiteRead:
    """A site's lightning risk class: hazardous (explosion or fire hazard) sites test their
    lightning protection half-yearly, others yearly (docs/maintenance-plans.md)."""
    with db.transaction() as s:
        site = get_site(s, site_id)
        site.risk_class = data.risk_class
        return SiteRead.model_validate(site)


@router.post("/locations", status_code=201)
def post_location(data: LocationCreate, db: DatabaseDep) -> LocationRead:
    with db.transaction() as s:
        return LocationRead.model_validate(create_location(s, data))


@directory.get("/sites/{site_id}/locations")
def list_locations(site_id: Id, db: DatabaseDep) -> list[LocationRead]:
    with db.transaction() as s:
        get_site(s, site_id)
        rows = s.scalars(select(Location).where(Location.site_id == site_id).order_by(Location.id))
        return [LocationRead.model_validate(x) for x in rows]


@router.post("/assets", status_code=201)
def post_asset(data: AssetCreate, db: DatabaseDep) -> AssetRead:
    with db.transaction() as s:
        return asset_read(save_asset(s, data))


@router.put("/assets/{asset_id}")
def put_asset(asset_id: Id, data: AssetCreate, db: DatabaseDep) -> AssetRead:
    with db.transaction() as s:
        return asset_read(save_asset(s, data, get_asset(s, asset_id)))


@directory.get("/assets")
def list_assets(
    db: DatabaseDep,
    site_id: Id | None = None,
    system: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[AssetRead]:
    with db.transaction() as s:
        q = select(Asset).order_by(Asset.id).limit(limit).offset(offset)
        if site_id is not None:
            q = q.where(Asset.site_id == site_id)
        if system is not None:
            q = q.where(Asset.system == system)
        return [asset_read(a) for a in s.scalars(q)]


@directory.get("/assets/{asset_id}")
def read_asset(asset_id: Id, db: DatabaseDep) -> AssetRead:
    with db.transaction() as s:
        return asset_read(get_asset(s, asset_id))


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
        get_asset(s, asset_id)
        out = [
            TicketRead.model_validate(t)
            for t in queries.asset_history(s, asset_id, limit=limit, offset=offset)
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
    db: DatabaseDep, body: Annotated[str, Body(media_type="text/csv")]
) -> dict[str, Any]:
    """Creates or updates assets by (site_code, code); answers a per-row report. A bad row never
    discards the good ones."""
    with db.transaction() as s:
        report = csvio.import_assets(s, body)
    return {
        "created": report.created,
        "updated": report.updated,
        "rejected": [asdict(r) for r in report.rejected],
    }


@router.get("/assets.csv", response_class=PlainTextResponse)
def export_assets(db: DatabaseDep, site_id: Id | None = None) -> PlainTextResponse:
    with db.transaction() as s:
        text = csvio.export_assets(s, site_id)
    return PlainTextResponse(text, media_type="text/csv")

"""The equipment ledger's operations."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from maintenance.assets.calendar import BusinessCalendar, CalendarError
from maintenance.assets.models import Asset, AssetDevice, Location, Site
from maintenance.assets.schemas import AssetCreate, LocationCreate, SiteCreate
from maintenance.errors import InvalidInput, NotFound
from maintenance.scope import Scope
from maintenance.storage.db import get_required


def create_site(session: Session, data: SiteCreate) -> Site:
    try:
        BusinessCalendar(data.business_hours, data.timezone)
    except CalendarError as error:
        raise InvalidInput("business_hours", str(error)) from None
    if session.scalar(select(Site.id).where(Site.code == data.code)) is not None:
        raise InvalidInput("code", f"site {data.code!r} exists")
    site = Site(**data.model_dump())
    session.add(site)
    session.flush()
    return site


def get_site(session: Session, site_id: int) -> Site:
    return get_required(session, Site, site_id, "site")


def sites(session: Session, *, scope: Scope) -> list[Site]:
    return list(session.scalars(select(Site).where(scope.where_site(Site.id)).order_by(Site.id)))


def visible_site(session: Session, site_id: int, *, scope: Scope) -> Site:
    """A site outside the caller's scope is, for them, not there (404)."""
    if not scope.admits_site(site_id):
        raise NotFound("site", site_id)
    return get_site(session, site_id)


def visible_asset(session: Session, asset_id: int, *, scope: Scope) -> Asset:
    """An asset outside the caller's sites (or a contractor's company's assets): 404."""
    asset = session.get(Asset, asset_id)
    if asset is None or not scope.admits(asset.site_id, asset.id):
        raise NotFound("asset", asset_id)
    return asset


def assets(
    session: Session,
    *,
    scope: Scope,
    site_id: int | None = None,
    system: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Asset]:
    q = select(Asset).where(scope.where(Asset.site_id, Asset.id))
    if site_id is not None:
        q = q.where(Asset.site_id == site_id)
    if system is not None:
        q = q.where(Asset.system == system)
    return list(session.scalars(q.order_by(Asset.id).limit(limit).offset(offset)))


def create_location(session: Session, data: LocationCreate) -> Location:
    get_site(session, data.site_id)
    location = find_location(session, data.site_id, data.building, data.floor, data.room)
    if location is not None:
        raise InvalidInput("room", f"location exists as #{location.id}")
    location = Location(**data.model_dump())
    session.add(location)
    session.flush()
    return location


def find_location(
    session: Session, site_id: int, building: str, floor: str, room: str
) -> Location | None:
    return session.scalar(
        select(Location).where(
            Location.site_id == site_id,
            Location.building == building,
            Location.floor == floor,
            Location.room == room,
        )
    )


def get_asset(session: Session, asset_id: int) -> Asset:
    return get_required(session, Asset, asset_id, "asset")


def save_asset(session: Session, data: AssetCreate, asset: Asset | None = None) -> Asset:
    """Create, or update `asset` in place; device ids are unique within a site."""
    get_site(session, data.site_id)
    if data.location_id is not None:
        location = get_required(session, Location, data.location_id, "location")
        if location.site_id != data.site_id:
            raise InvalidInput("location_id", f"location {location.id} is on another site")
    clash = session.scalar(
        select(Asset.id).where(Asset.site_id == data.site_id, Asset.code == data.code)
    )
    if clash is not None and (asset is None or clash != asset.id):
        raise InvalidInput("code", f"asset {data.code!r} exists on this site (#{clash})")
    taken = session.execute(
        select(AssetDevice.device_id, AssetDevice.asset_id).where(
            AssetDevice.site_id == data.site_id,
            AssetDevice.device_id.in_(data.device_ids),
        )
    ).all()
    for device_id, owner in taken:
        if asset is None or owner != asset.id:
            raise InvalidInput("device_ids", f"device {device_id!r} reports for asset #{owner}")
    fields = data.model_dump(exclude={"device_ids"})
    if asset is None:
        asset = Asset(**fields)
        session.add(asset)
    else:
        for name, value in fields.items():
            setattr(asset, name, value)
    # Keep the rows of devices that stay: SQLAlchemy inserts new rows before it deletes
    # orphans, and a device id is unique within its site.
    kept = {d.device_id: d for d in asset.devices}
    asset.devices = [
        kept.get(d) or AssetDevice(site_id=data.site_id, device_id=d) for d in data.device_ids
    ]
    session.flush()
    return asset


def add_device_id(session: Session, asset: Asset, device_id: str) -> None:
    """One more device reporting for `asset` (a gateway's device mapped from the console)."""
    if device_id in asset.device_ids:
        return
    owner = session.scalar(
        select(AssetDevice.asset_id).where(
            AssetDevice.site_id == asset.site_id, AssetDevice.device_id == device_id
        )
    )
    if owner is not None:
        raise InvalidInput("device", f"device {device_id!r} reports for asset #{owner}")
    asset.devices.append(AssetDevice(site_id=asset.site_id, device_id=device_id))
    session.flush()


def asset_for_device(session: Session, site_code: str, device_id: str) -> Asset | None:
    """The asset a telemetry device reports for (alarms need it)."""
    return session.scalar(
        select(Asset)
        .join(AssetDevice, AssetDevice.asset_id == Asset.id)
        .join(Site, Site.id == Asset.site_id)
        .where(Site.code == site_code, AssetDevice.device_id == device_id)
    )


@dataclass(frozen=True, slots=True)
class AssetLabel:
    """How a person recognises a piece of equipment: its code and name, and where it is."""

    code: str
    name: str
    location_id: int | None
    where: str  # "A / 1 / lobby", or "" when the ledger has no location

    def __str__(self) -> str:
        same = self.name.casefold() in ("", self.code.casefold())
        what = self.code if same else f"{self.code} {self.name}"
        return f"{what} @ {self.where}" if self.where else what


def where(location: Location | None) -> str:
    if location is None:
        return ""
    return " / ".join(p for p in (location.building, location.floor, location.room) if p)


def labels(session: Session, asset_ids: set[int]) -> dict[int, AssetLabel]:
    """Labels of many assets in one query (a batch of inspections names each one)."""
    if not asset_ids:
        return {}
    rows = session.execute(
        select(Asset.id, Asset.code, Asset.name, Location)
        .outerjoin(Location, Location.id == Asset.location_id)
        .where(Asset.id.in_(asset_ids))
    )
    return {
        asset_id: AssetLabel(code, name or "", loc.id if loc else None, where(loc))
        for asset_id, code, name, loc in rows
    }

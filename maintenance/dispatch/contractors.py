"""Contractor companies and the assets they are responsible for (a site's elevators under a
maintenance contract, say): made, given assets by site and system or asset type or by a list,
read. An asset has at most one responsible company; giving it to another moves it. Assets
added to the ledger later are given by running the same assignment again."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from maintenance.accounts.models import Contractor, contractor_assets
from maintenance.assets.models import Asset, Site
from maintenance.dispatch.models import Technician
from maintenance.errors import InvalidInput
from maintenance.scope import Scope
from maintenance.storage.db import get_required
from maintenance.vocabulary import Id, System


class ContractorCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Otis Service", "contact": "+86 21 0000 0000"}]},
    )
    name: str = Field(min_length=1, max_length=200)
    contact: str = Field("", max_length=200)


class AssetAssignment(BaseModel):
    """Which assets: those of a site (and a system and/or an asset type), or a list of ids."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"site_id": 1, "system": "elevator"}, {"asset_ids": [3]}]},
    )
    site_id: Id | None = None
    system: System | None = None
    asset_type: str | None = Field(None, min_length=1, max_length=100)
    asset_ids: list[Id] | None = Field(None, min_length=1, max_length=10_000)


class ContractorRead(BaseModel):
    id: int
    name: str
    contact: str
    asset_ids: list[int]


def create(session: Session, data: ContractorCreate, *, now: datetime) -> Contractor:
    taken = session.scalar(select(Contractor.id).where(Contractor.name == data.name))
    if taken is not None:
        raise InvalidInput("name", f"{data.name!r} exists")
    contractor = Contractor(name=data.name, contact=data.contact, created_at=now)
    session.add(contractor)
    session.flush()
    return contractor


def get(session: Session, contractor_id: int) -> Contractor:
    return get_required(session, Contractor, contractor_id, "contractor")


def find(session: Session, name: str) -> Contractor:
    found = session.scalar(select(Contractor).where(Contractor.name == name))
    if found is None:
        raise InvalidInput("contractor", f"no contractor named {name!r}")
    return found


def assets_of(session: Session, contractor_id: int, *, scope: Scope) -> list[int]:
    """The company's assets within the caller's scope."""
    return list(
        session.scalars(
            select(contractor_assets.c.asset_id)
            .join(Asset, Asset.id == contractor_assets.c.asset_id)
            .where(
                contractor_assets.c.contractor_id == contractor_id,
                scope.where(Asset.site_id, Asset.id),
            )
            .order_by(contractor_assets.c.asset_id)
        )
    )


def read(session: Session, contractor: Contractor, *, scope: Scope) -> ContractorRead:
    return ContractorRead(
        id=contractor.id,
        name=contractor.name,
        contact=contractor.contact,
        asset_ids=assets_of(session, contractor.id, scope=scope),
    )


def all_contractors(session: Session, *, contractor_id: int | None = None) -> list[Contractor]:
    """Every company, or only one (a contractor's own people see only theirs)."""
    q = select(Contractor).order_by(Contractor.id)
    if contractor_id is not None:
        q = q.where(Contractor.id == contractor_id)
    return list(session.scalars(q))


def selected(session: Session, which: AssetAssignment) -> list[int]:
    """The asset ids an assignment names; a 422 on the field that names none or unknown ones."""
    if which.asset_ids is not None:
        if which.site_id is not None or which.system is not None or which.asset_type is not None:
            raise InvalidInput("asset_ids", "either a list of assets or a site with a system")
        wanted = set(which.asset_ids)
        known = set(session.scalars(select(Asset.id).where(Asset.id.in_(sorted(wanted)))))
        if wanted - known:
            raise InvalidInput("asset_ids", f"unknown asset(s) {sorted(wanted - known)}")
        return sorted(wanted)
    if which.site_id is None:
        raise InvalidInput("site_id", "name a site (with a system or asset type) or asset_ids")
    get_required(session, Site, which.site_id, "site")
    if which.system is None and which.asset_type is None:
        raise InvalidInput("system", "name a system or an asset type of the site")
    q = select(Asset.id).where(Asset.site_id == which.site_id)
    if which.system is not None:
        q = q.where(Asset.system == which.system)
    if which.asset_type is not None:
        q = q.where(Asset.type == which.asset_type)
    found = sorted(session.scalars(q))
    if not found:
        raise InvalidInput("site_id", "the site has no such assets")
    return found


def assign(session: Session, contractor: Contractor, which: AssetAssignment) -> list[int]:
    """The company becomes responsible for the assets (taking them from any other); answers
    their ids."""
    ids = selected(session, which)
    session.execute(delete(contractor_assets).where(contractor_assets.c.asset_id.in_(ids)))
    session.execute(
        insert(contractor_assets), [{"asset_id": i, "contractor_id": contractor.id} for i in ids]
    )
    session.flush()
    return ids


def responsible_for(session: Session, asset_id: int | None) -> int | None:
    """The contractor company responsible for the asset, if any."""
    if asset_id is None:
        return None
    return session.scalar(
        select(contractor_assets.c.contractor_id).where(contractor_assets.c.asset_id == asset_id)
    )


def check_assignee(session: Session, asset_id: int | None, technician: Technician) -> None:
    """A contractor's technician works only his company's assets (he could not even see
    another ticket): a 422 on `technician_id` otherwise. (The control room may give a
    contractor's asset to an in-house technician; dispatch gives it to the contractor's.)"""
    if technician.contractor_id is None:
        return
    contractor = responsible_for(session, asset_id)
    if technician.contractor_id != contractor:
        raise InvalidInput(
            "technician_id",
            f"technician {technician.id} works only contractor {technician.contractor_id}'s assets",
        )

"""Sites and contractors in access control: an account's or key's sites, contractor companies
and the assets they are responsible for (docs/security.md, "Sites and contractors")."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from api.auth import PrincipalDep, access, client_of
from api.deps import DatabaseDep, NowDep
from api.routes.auth import ApiKeyRead, UserRead, key_read, user_read
from maintenance.accounts import service as users
from maintenance.accounts.models import ApiKey, User
from maintenance.assets.service import visible_asset, visible_site
from maintenance.dispatch import contractors
from maintenance.dispatch.contractors import AssetAssignment, ContractorCreate, ContractorRead
from maintenance.storage.db import get_required
from maintenance.vocabulary import Id

# Accounts and keys: the admin's, as every account route; contractors: the office's (the
# rule is given where the app includes the router, api/main.py).
ADMIN = frozenset({"admin"})
accounts = APIRouter(tags=["access"], dependencies=[Depends(access(ADMIN, ADMIN))])
router = APIRouter(tags=["access"])


class SiteChoice(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"site_ids": [1]}]})
    site_ids: list[Id] | None = Field(description="null: every site", max_length=1000)


@accounts.put("/users/{user_id}/sites")
def scope_user(
    user_id: Id,
    body: SiteChoice,
    request: Request,
    db: DatabaseDep,
    now: NowDep,
    principal: PrincipalDep,
) -> UserRead:
    """The sites the account sees from its next request on (null: every site; an admin always
    sees every site)."""
    with db.transaction() as s:
        user = get_required(s, User, user_id, "user")
        users.set_sites(s, user, body.site_ids)
        users.record(
            s,
            actor=principal.name,
            action="user_scoped",
            now=now,
            detail=f"{user.username}: sites {_said(body.site_ids)}",
            client=client_of(request),
        )
        return user_read(s, user)


@accounts.put("/api-keys/{key_id}/sites")
def scope_key(
    key_id: Id,
    body: SiteChoice,
    request: Request,
    db: DatabaseDep,
    now: NowDep,
    principal: PrincipalDep,
) -> ApiKeyRead:
    """The sites the key speaks for from its next request on (null: every site)."""
    with db.transaction() as s:
        key = get_required(s, ApiKey, key_id, "api key")
        users.set_sites(s, key, body.site_ids)
        users.record(
            s,
            actor=principal.name,
            action="api_key_scoped",
            now=now,
            detail=f"{key.name}: sites {_said(body.site_ids)}",
            client=client_of(request),
        )
        return key_read(s, key)


def _said(site_ids: list[int] | None) -> str:
    return "all" if site_ids is None else ", ".join(str(i) for i in sorted(site_ids)) or "none"


@router.post("/contractors", status_code=201)
def create_contractor(
    body: ContractorCreate, db: DatabaseDep, now: NowDep, principal: PrincipalDep
) -> ContractorRead:
    """A contractor company; give it assets, technicians (`contractor_id` on the technician)
    and accounts (role contractor)."""
    with db.transaction() as s:
        made = contractors.create(s, body, now=now)
        users.record(
            s, actor=principal.name, action="contractor_created", now=now, detail=made.name
        )
        return contractors.read(s, made, scope=principal.scope)


@router.get("/contractors")
def list_contractors(db: DatabaseDep, principal: PrincipalDep) -> list[ContractorRead]:
    """Every company, each with the assets of the caller's sites it is responsible for."""
    with db.read() as s:
        found = contractors.all_contractors(s)
        return [contractors.read(s, c, scope=principal.scope) for c in found]


@router.get("/contractors/{contractor_id}")
def read_contractor(contractor_id: Id, db: DatabaseDep, principal: PrincipalDep) -> ContractorRead:
    with db.read() as s:
        found = contractors.get(s, contractor_id)
        return contractors.read(s, found, scope=principal.scope)


@router.post("/contractors/{contractor_id}/assets")
def assign_assets(
    contractor_id: Id,
    body: AssetAssignment,
    db: DatabaseDep,
    now: NowDep,
    principal: PrincipalDep,
) -> ContractorRead:
    """The company becomes responsible for the assets named by a site with a system and/or
    asset type, or by a list (taking them from any other company). Its tickets are dispatched
    to its technicians from now on; its people see them at once. Assets outside the caller's
    sites are not found."""
    with db.transaction() as s:
        contractor = contractors.get(s, contractor_id)
        if body.site_id is not None:
            visible_site(s, body.site_id, scope=principal.scope)
        for asset_id in body.asset_ids or ():
            visible_asset(s, asset_id, scope=principal.scope)
        ids = contractors.assign(s, contractor, body)
        users.record(
            s,
            actor=principal.name,
            action="contractor_assets",
            now=now,
            detail=f"{contractor.name}: assets {', '.join(map(str, ids))}",
        )
        return contractors.read(s, contractor, scope=principal.scope)

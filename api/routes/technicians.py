"""Teams, technicians and their duty shifts."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from api.auth import PrincipalDep
from api.deps import DatabaseDep
from maintenance.dispatch import roster
from maintenance.dispatch.roster import ShiftCreate, TeamCreate, TechnicianCreate, TechnicianRead
from maintenance.errors import InvalidInput, NotFound
from maintenance.vocabulary import Id

router = APIRouter(tags=["dispatch"])


class TeamRead(TeamCreate):
    model_config = ConfigDict(from_attributes=True)
    id: int


class ShiftRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    technician_id: Id
    starts_at: datetime
    ends_at: datetime


@router.post("/teams", status_code=201)
def post_team(data: TeamCreate, db: DatabaseDep) -> TeamRead:
    with db.transaction() as s:
        return TeamRead.model_validate(roster.create_team(s, data))


@router.post("/technicians", status_code=201)
def post_technician(
    data: TechnicianCreate, db: DatabaseDep, principal: PrincipalDep
) -> TechnicianRead:
    """A site outside the caller's scope is not found; a site-scoped caller names a site."""
    for site_id in data.site_ids:
        if not principal.scope.admits_site(site_id):
            raise NotFound("site", site_id)
    if not data.site_ids and not principal.scope.everything:
        raise InvalidInput("site_ids", "name one of your sites")
    with db.transaction() as s:
        return roster.read(roster.create_technician(s, data))


@router.get("/technicians")
def list_technicians(db: DatabaseDep, principal: PrincipalDep) -> list[TechnicianRead]:
    """Those covering the caller's sites (a contractor's people: their company's)."""
    with db.transaction() as s:
        return [roster.read(t) for t in roster.technicians(s, scope=principal.scope)]


@router.get("/technicians/{technician_id}")
def read_technician(technician_id: Id, db: DatabaseDep, principal: PrincipalDep) -> TechnicianRead:
    with db.transaction() as s:
        return roster.read(roster.visible_technician(s, technician_id, scope=principal.scope))


@router.post("/technicians/{technician_id}/shifts", status_code=201)
def post_shift(
    technician_id: Id, data: ShiftCreate, db: DatabaseDep, principal: PrincipalDep
) -> ShiftRead:
    with db.transaction() as s:
        roster.visible_technician(s, technician_id, scope=principal.scope)
        return ShiftRead.model_validate(roster.add_shift(s, technician_id, data))

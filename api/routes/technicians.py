"""Teams, technicians and their duty shifts."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from api.deps import DatabaseDep
from maintenance.dispatch import roster
from maintenance.dispatch.models import Technician
from maintenance.dispatch.roster import ShiftCreate, TeamCreate, TechnicianCreate, TechnicianRead
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
def post_technician(data: TechnicianCreate, db: DatabaseDep) -> TechnicianRead:
    with db.transaction() as s:
        return roster.read(roster.create_technician(s, data))


@router.get("/technicians")
def list_technicians(db: DatabaseDep) -> list[TechnicianRead]:
    with db.transaction() as s:
        return [roster.read(t) for t in s.scalars(select(Technician).order_by(Technician.id))]


@router.get("/technicians/{technician_id}")
def read_technician(technician_id: Id, db: DatabaseDep) -> TechnicianRead:
    with db.transaction() as s:
        return roster.read(roster.get_technician(s, technician_id))


@router.post("/technicians/{technician_id}/shifts", status_code=201)
def post_shift(technician_id: Id, data: ShiftCreate, db: DatabaseDep) -> ShiftRead:
    with db.transaction() as s:
        return ShiftRead.model_validate(roster.add_shift(s, technician_id, data))

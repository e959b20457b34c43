"""Technicians, teams and duty shifts."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import and_, exists, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from maintenance.accounts.models import Contractor
from maintenance.assets.models import Site
from maintenance.dispatch.models import Shift, Team, Technician, technician_sites
from maintenance.errors import InvalidInput, NotFound
from maintenance.scope import Scope
from maintenance.storage.db import get_required
from maintenance.vocabulary import Id, System


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    supervisor: str | None = None


class TechnicianCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Wang Lei",
                    "contact": "+86 138 0000 0000",
                    "skills": ["elevator", "power"],
                    "site_ids": [1],
                    "team_id": 1,
                }
            ]
        },
    )
    name: str = Field(min_length=1, max_length=200)
    contact: str = Field("", max_length=200)
    team_id: Id | None = None
    skills: list[System] = Field(default_factory=list)
    site_ids: list[Id] = Field(default_factory=list)
    active: bool = True
    # A contractor company's technician: dispatched only that company's assets.
    contractor_id: Id | None = None


class ShiftCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @field_validator("ends_at")
    @classmethod
    def _after_start(cls, value: datetime, info: object) -> datetime:
        start = getattr(info, "data", {}).get("starts_at")
        if value.tzinfo is None or (start is not None and start.tzinfo is None):
            raise ValueError("needs a time zone offset")
        if start is not None and value <= start:
            raise ValueError("must be after starts_at")
        return value


class TechnicianRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    contact: str
    team_id: Id | None
    skills: list[str]
    site_ids: list[Id]
    active: bool
    contractor_id: Id | None = None


def create_team(session: Session, data: TeamCreate) -> Team:
    team = Team(**data.model_dump())
    session.add(team)
    session.flush()
    return team


def create_technician(session: Session, data: TechnicianCreate) -> Technician:
    if data.team_id is not None:
        get_required(session, Team, data.team_id, "team")
    sites = list(session.scalars(select(Site).where(Site.id.in_(data.site_ids))))
    missing = set(data.site_ids) - {s.id for s in sites}
    if missing:
        raise InvalidInput("site_ids", f"unknown site(s) {sorted(missing)}")
    if data.contractor_id is not None and session.get(Contractor, data.contractor_id) is None:
        raise InvalidInput("contractor_id", f"unknown contractor {data.contractor_id}")
    technician = Technician(
        name=data.name,
        contact=data.contact,
        team_id=data.team_id,
        skills=[s.value for s in data.skills],
        sites=sites,
        active=data.active,
        contractor_id=data.contractor_id,
    )
    session.add(technician)
    session.flush()
    return technician


def get_technician(session: Session, technician_id: int) -> Technician:
    return get_required(session, Technician, technician_id, "technician")


def within(scope: Scope) -> ColumnElement[bool]:
    """The technicians a caller sees: those covering one of their sites; a contractor's people
    see only their company's."""
    condition: ColumnElement[bool] = true()
    if scope.site_ids is not None:
        condition = exists(
            select(technician_sites.c.site_id).where(
                technician_sites.c.technician_id == Technician.id,
                scope.where_site(technician_sites.c.site_id),
            )
        )
    if scope.asset_ids is not None:
        condition = and_(condition, Technician.contractor_id == scope.contractor_id)
    return condition


def technicians(session: Session, *, scope: Scope) -> list[Technician]:
    return list(session.scalars(select(Technician).where(within(scope)).order_by(Technician.id)))


def visible_technician(session: Session, technician_id: int, *, scope: Scope) -> Technician:
    """A technician outside the caller's scope is, for them, not there (404)."""
    found = session.scalar(select(Technician).where(Technician.id == technician_id, within(scope)))
    if found is None:
        raise NotFound("technician", technician_id)
    return found


def add_shift(session: Session, technician_id: int, data: ShiftCreate) -> Shift:
    technician = get_technician(session, technician_id)
    shift = Shift(technician_id=technician.id, starts_at=data.starts_at, ends_at=data.ends_at)
    session.add(shift)
    session.flush()
    session.refresh(technician)
    return shift


def read(technician: Technician) -> TechnicianRead:
    return TechnicianRead(
        id=technician.id,
        name=technician.name,
        contact=technician.contact,
        team_id=technician.team_id,
        skills=list(technician.skills),
        site_ids=[s.id for s in technician.sites],
        active=technician.active,
        contractor_id=technician.contractor_id,
    )

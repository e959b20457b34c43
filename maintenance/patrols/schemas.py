"""What callers send and get back about rounds, runs and check-ins."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from maintenance.vocabulary import Id

HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class PointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    location_id: Id
    name: str = Field("", max_length=200, description="what the label says; default: the place")

    @field_validator("name")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        return value.strip()


class RoundCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "site_id": 1,
                    "name": "Security patrol",
                    "every": 1,
                    "unit": "hours",
                    "starts_on": "2026-12-01",
                    "start_time": "00:00",
                    "window_minutes": 45,
                    "grace_minutes": 15,
                    "points": [{"location_id": 3}, {"location_id": 4, "name": "North gate"}],
                }
            ]
        },
    )

    site_id: Id
    name: str = Field(min_length=1, max_length=200)

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a round needs a name")
        return value.strip()

    every: int = Field(1, ge=1, le=366)
    unit: Literal["hours", "days"] = "hours"
    starts_on: date = Field(ge=date(2000, 1, 1), le=date(2099, 12, 31))
    start_time: str = Field("00:00", pattern=HHMM, description="local to the site, HH:MM")
    window_minutes: int = Field(45, ge=1, le=7 * 24 * 60)
    grace_minutes: int = Field(15, ge=0, le=7 * 24 * 60)
    points: list[PointCreate] = Field(min_length=1, max_length=200)

    @field_validator("points")
    @classmethod
    def _each_place_once(cls, points: list[PointCreate]) -> list[PointCreate]:
        seen = [p.location_id for p in points]
        if len(set(seen)) != len(seen):
            raise ValueError("a place is on the round twice")
        return points


class RoundChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    window_minutes: int | None = Field(None, ge=1, le=7 * 24 * 60)
    grace_minutes: int | None = Field(None, ge=0, le=7 * 24 * 60)
    paused: StrictBool | None = None


class PointRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    position: int
    location_id: int
    name: str
    code: str


class RoundRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    site_id: int
    name: str
    every: int
    unit: str
    starts_on: date
    start_time: str
    window_minutes: int
    grace_minutes: int
    paused: bool
    points: list[PointRead]


class CheckInRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    run_id: int
    point_id: int
    at: datetime
    actor: str
    method: str
    late: bool
    observation: str
    abnormal: bool
    has_photo: bool
    ticket_id: int | None


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    round_id: int
    starts_at: datetime
    on_time_by: datetime
    closes_at: datetime
    status: str
    points_due: int
    points_missed: int
    closed_at: datetime | None
    check_ins: list[CheckInRead] = []


class RoundSummary(BaseModel):
    """A round's runs in a period, by how they ended."""

    round_id: int
    site_id: int
    name: str
    runs: int
    open: int
    completed: int
    late: int
    incomplete: int
    missed: int
    points_due: int
    points_missed: int
    abnormal: int


class MissedPoint(BaseModel):
    run_id: int
    round_id: int
    starts_at: datetime
    point_id: int
    point: str


class PatrolReport(BaseModel):
    since: datetime
    until: datetime
    rounds: list[RoundSummary]
    missed_points: list[MissedPoint]

"""What the alarm API takes and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from maintenance.vocabulary import Id


class AlarmRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    site: str
    system: str
    device_id: str
    rule_id: str
    site_id: Id | None
    asset_id: Id | None
    severity: str
    life_safety: bool = False
    resettable: bool = False
    message: str
    state: str
    raised_at: datetime | None
    cleared_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    occurrences: int
    values: dict[str, Any]
    shelved_until: datetime | None
    shelved_by: str | None
    shelve_reason: str | None
    suppressed_by: str | None
    chattering: bool
    flood_id: Id | None
    ticket_id: Id | None
    updated_at: datetime


class AlarmPage(BaseModel):
    items: list[AlarmRead]
    total: int
    limit: int
    offset: int


class AlarmTransitionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    alarm_id: Id
    site: str
    at: datetime
    actor: str
    action: str
    from_state: str
    to_state: str
    new_occurrence: bool
    values: dict[str, Any]
    note: str


class Acknowledge(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"actor": "eng:liu", "note": "on it"}]}
    )
    actor: str = Field(min_length=1, max_length=200)
    note: str = Field("", max_length=2000)


class Reset(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"actor": "eng:liu", "reason": "breaker closed on site"}]},
    )
    actor: str = Field("api", min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)


class Shelve(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"actor": "eng:liu", "reason": "sensor replaced tomorrow", "minutes": 120}]
        },
    )
    actor: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)
    minutes: float = Field(gt=0, description="at most FACILITY_ALARM_SHELVE_MAX_MINUTES")


class Unshelve(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor: str = Field(min_length=1, max_length=200)


class FloodRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    site: str
    started_at: datetime
    ended_at: datetime | None
    alarm_count: int


class MaintenanceWindowCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "asset_id": 12,
                    "starts_at": "2026-11-24T01:00:00Z",
                    "ends_at": "2026-11-24T05:00:00Z",
                    "reason": "pump overhaul",
                    "created_by": "sup:chen",
                }
            ]
        },
    )
    asset_id: Id
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: str = Field("", max_length=2000)
    created_by: str = Field("", max_length=200)

    @model_validator(mode="after")
    def _ordered(self) -> MaintenanceWindowCreate:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class MaintenanceWindowRead(MaintenanceWindowCreate):
    model_config = ConfigDict(from_attributes=True)
    id: int

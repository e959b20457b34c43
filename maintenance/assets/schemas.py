from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from maintenance.vocabulary import Criticality, Id, System

CODE = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"


class SiteCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "estate-1",
                    "name": "Riverside Estate",
                    "timezone": "Asia/Shanghai",
                    "supervisor": "duty-supervisor@riverside",
                    "business_hours": {"mon": [["08:00", "18:00"]], "tue": [["08:00", "18:00"]]},
                }
            ]
        },
    )

    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    timezone: str = "UTC"
    supervisor: str | None = None
    business_hours: dict[str, Any] | None = None
    risk_class: Literal["normal", "hazardous"] = Field(
        "normal", description="lightning risk: hazardous (explosion/fire) sites test half-yearly"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class SiteRead(SiteCreate):
    model_config = ConfigDict(from_attributes=True)
    id: int


class LocationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site_id: Id
    building: str = Field(min_length=1, max_length=100)
    floor: str = Field("", max_length=50)
    room: str = Field("", max_length=100)


class LocationRead(LocationCreate):
    model_config = ConfigDict(from_attributes=True)
    id: int


class AssetCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "site_id": 1,
                    "code": "LIFT-B2-02",
                    "name": "Block B lift 2",
                    "system": "elevator",
                    "type": "traction lift",
                    "model": "GeN2",
                    "vendor": "Otis",
                    "serial": "OT-778812",
                    "install_date": "2019-05-01",
                    "criticality": "high",
                    "location_id": 3,
                    "device_ids": ["elevator-002"],
                }
            ]
        },
    )

    site_id: Id
    code: str = Field(pattern=CODE)
    name: str = Field("", max_length=200)
    system: System
    type: str = Field(min_length=1, max_length=100)
    model: str = Field("", max_length=100)
    vendor: str = Field("", max_length=100)
    serial: str = Field("", max_length=100)
    install_date: date | None = None
    inspection_due: date | None = Field(
        None, description="the authority's next periodic inspection (certificate expiry)"
    )
    criticality: Criticality = Criticality.medium
    location_id: Id | None = None
    device_ids: list[str] = Field(default_factory=list)

    @field_validator("device_ids")
    @classmethod
    def _safe_device_ids(cls, values: list[str]) -> list[str]:
        import re

        for value in values:
            if not re.fullmatch(CODE, value):
                raise ValueError(f"unsafe device id {value!r}")
        if len(set(values)) != len(values):
            raise ValueError("device ids repeat")
        return values


class AssetRead(AssetCreate):
    model_config = ConfigDict(from_attributes=True)
    id: int

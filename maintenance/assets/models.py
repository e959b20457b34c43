from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maintenance.storage.db import Base
from maintenance.vocabulary import Criticality, System


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    supervisor: Mapped[str | None] = mapped_column(String(200))
    # {"mon": [["08:00", "18:00"]], ...} in the site's time zone; None = 24/7 clocks
    business_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The site's lightning risk (GB 50057 / the Lightning Disaster Measures, art. 19): "normal"
    # (yearly test) or "hazardous" (explosion or fire hazard places: half-yearly).
    risk_class: Mapped[str] = mapped_column(String(16), default="normal", server_default="normal")


class Location(Base):
    __tablename__ = "locations"
    __table_args__ = (UniqueConstraint("site_id", "building", "floor", "room"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    building: Mapped[str] = mapped_column(String(100))
    floor: Mapped[str] = mapped_column(String(50), default="")
    room: Mapped[str] = mapped_column(String(100), default="")


class Asset(Base):
    __tablename__ = "assets"
    __table_args__ = (UniqueConstraint("site_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    system: Mapped[System] = mapped_column(Enum(System, native_enum=False, length=16))
    type: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100), default="")
    vendor: Mapped[str] = mapped_column(String(100), default="")
    serial: Mapped[str] = mapped_column(String(100), default="")
    install_date: Mapped[date | None]
    # When the authority's next periodic inspection falls due (an elevator's inspection
    # certificate expiry, TSG T7001): the compliance reminder's date.
    inspection_due: Mapped[date | None]
    criticality: Mapped[Criticality] = mapped_column(
        Enum(Criticality, native_enum=False, length=16), default=Criticality.medium
    )
    devices: Mapped[list[AssetDevice]] = relationship(
        cascade="all, delete-orphan", order_by="AssetDevice.device_id"
    )

    @property
    def device_ids(self) -> list[str]:
        return [d.device_id for d in self.devices]


class AssetDevice(Base):
    """An MQTT device id that reports for an asset (unique within a site)."""

    __tablename__ = "asset_devices"
    __table_args__ = (UniqueConstraint("site_id", "device_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    device_id: Mapped[str] = mapped_column(String(64))

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maintenance.assets.models import Site
from maintenance.storage.db import Base, UtcDateTime

technician_sites = Table(
    "technician_sites",
    Base.metadata,
    Column("technician_id", ForeignKey("technicians.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    supervisor: Mapped[str | None] = mapped_column(String(200))


class Technician(Base):
    __tablename__ = "technicians"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(200), default="")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)  # systems they may work on
    active: Mapped[bool] = mapped_column(default=True)
    # A contractor company's technician works only that company's assets (and they only him).
    contractor_id: Mapped[int | None] = mapped_column(ForeignKey("contractors.id"))
    # Open tickets assigned now; kept by work_orders.service on every assignment and state change
    # so that dispatch never counts tickets (tests check it against a real count).
    open_tickets: Mapped[int] = mapped_column(default=0, server_default="0")
    sites: Mapped[list[Site]] = relationship(secondary=technician_sites)
    team: Mapped[Team | None] = relationship()
    shifts: Mapped[list[Shift]] = relationship(
        cascade="all, delete-orphan", order_by="Shift.starts_at"
    )


class Shift(Base):
    """A duty period; a technician with no shifts at all counts as always on duty."""

    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[int] = mapped_column(
        ForeignKey("technicians.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)

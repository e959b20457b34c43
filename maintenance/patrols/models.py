from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maintenance.storage.db import Base, UtcDateTime


class PatrolRound(Base):
    """A round a site walks on a cadence (the hourly security patrol, the daily plant-room
    round): its points in order, when each run starts and how long it has."""

    __tablename__ = "patrol_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    every: Mapped[int] = mapped_column(default=1)
    unit: Mapped[str] = mapped_column(String(10), default="hours")  # hours | days
    # The first run starts on starts_on at start_time, local to the site.
    starts_on: Mapped[date]
    start_time: Mapped[str] = mapped_column(String(5), default="00:00")
    # Every point checked within window_minutes of the start is on time; until grace_minutes
    # more, a check-in is still taken but late; then the run closes and what is left is missed.
    window_minutes: Mapped[int] = mapped_column(default=45)
    grace_minutes: Mapped[int] = mapped_column(default=15)
    paused: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    points: Mapped[list[PatrolPoint]] = relationship(
        cascade="all, delete-orphan", order_by="PatrolPoint.position"
    )


class PatrolPoint(Base):
    """A place of the ledger on a round, with the short code its printed QR label carries."""

    __tablename__ = "patrol_points"
    __table_args__ = (UniqueConstraint("round_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("patrol_rounds.id", ondelete="CASCADE"))
    position: Mapped[int]
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    name: Mapped[str] = mapped_column(String(200), default="")
    code: Mapped[str] = mapped_column(String(12), unique=True)


class PatrolRun(Base):
    """One due walk of a round. The unique (round, start) makes creating it idempotent."""

    __tablename__ = "patrol_runs"
    __table_args__ = (UniqueConstraint("round_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("patrol_rounds.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    on_time_by: Mapped[datetime] = mapped_column(UtcDateTime)
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # open, then completed (every point on time), late (every point, some late), incomplete
    # (points missed) or missed (no point at all).
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    points_due: Mapped[int]
    points_missed: Mapped[int] = mapped_column(default=0)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PatrolCheckIn(Base):
    """A point passed on a run: who, when, how (scanned or typed), and what they saw."""

    __tablename__ = "patrol_check_ins"
    __table_args__ = (UniqueConstraint("run_id", "point_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("patrol_runs.id", ondelete="CASCADE"))
    point_id: Mapped[int] = mapped_column(ForeignKey("patrol_points.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(8))  # scan | typed
    late: Mapped[bool] = mapped_column(default=False)
    observation: Mapped[str] = mapped_column(Text, default="")
    abnormal: Mapped[bool] = mapped_column(default=False)
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    photo_type: Mapped[str | None] = mapped_column(String(40))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))

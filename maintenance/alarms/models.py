from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from maintenance.alarms.lifecycle import AlarmState
from maintenance.storage.db import Base, UtcDateTime


class Alarm(Base):
    """The current state of one (site, device, rule): deduplicated, so a repeat updates it."""

    __tablename__ = "alarms"
    __table_args__ = (
        UniqueConstraint("site", "device_id", "rule_id"),
        Index("ix_alarms_board", "state", "severity", "raised_at"),
        Index("ix_alarms_asset_rule", "asset_id", "rule_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    site: Mapped[str] = mapped_column(String(64))  # the site code of the telemetry topic
    system: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str] = mapped_column(String(64))
    rule_id: Mapped[str] = mapped_column(String(80))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))  # ledger, when known
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    severity: Mapped[str] = mapped_column(String(16))
    # Fire, trapped passengers, flooding, power loss: announced and ticketed whatever the
    # asset's state (never suppressed by work on it).
    life_safety: Mapped[bool] = mapped_column(default=False)
    resettable: Mapped[bool] = mapped_column(default=False)  # an event: a person may reset it
    message: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[AlarmState] = mapped_column(
        Enum(AlarmState, native_enum=False, length=32), default=AlarmState.normal
    )
    raised_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # this occurrence
    cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    occurrences: Mapped[int] = mapped_column(default=0)
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the triggering values
    shelved_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    shelved_by: Mapped[str | None] = mapped_column(String(200))
    shelve_reason: Mapped[str | None] = mapped_column(Text)
    suppressed_by: Mapped[str | None] = mapped_column(Text)  # why, while suppressed
    chattering: Mapped[bool] = mapped_column(default=False)
    clear_held: Mapped[bool] = mapped_column(default=False)  # a clear waiting out chattering
    last_raise_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    flood_id: Mapped[int | None] = mapped_column(ForeignKey("alarm_floods.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    # Collectors and people (the API) change alarms from different processes: optimistic locking.
    __mapper_args__ = {"version_id_col": version}


class AlarmTransitionRecord(Base):
    """Every alarm transition, append-only: who, when, from -> to, and the values behind it."""

    __tablename__ = "alarm_events"
    __table_args__ = (
        Index("ix_alarm_events_alarm_at", "alarm_id", "at"),
        Index("ix_alarm_events_site_at", "site", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id"))
    site: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    new_occurrence: Mapped[bool] = mapped_column(default=False)
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")


class AlarmFlood(Base):
    """A site in flood state: more new alarms in the window than a person can handle."""

    __tablename__ = "alarm_floods"

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    alarm_count: Mapped[int] = mapped_column(default=0)


class MaintenanceWindow(Base):
    """Planned work on an asset: its alarms are recorded as suppressed, not announced."""

    __tablename__ = "maintenance_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")


class FindingReview(Base):
    """A technician's verdict on one anomaly finding, kept when its predictive inspection is
    resolved: the device, the model, the window the finding covered, and whether it was a real
    fault. Retraining takes a false finding's window in as normal and keeps a confirmed one's
    out; the reports count both per model and device type."""

    __tablename__ = "finding_reviews"
    __table_args__ = (Index("ix_finding_reviews_device", "site", "system", "device_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id"))
    site: Mapped[str] = mapped_column(String(64))
    system: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(120))  # "<key> v<version>", as the alarm named it
    verdict: Mapped[str] = mapped_column(String(20))  # vocabulary.Finding
    window_start: Mapped[datetime] = mapped_column(UtcDateTime)
    window_end: Mapped[datetime] = mapped_column(UtcDateTime)
    reviewed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reviewed_by: Mapped[str] = mapped_column(String(200))

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from maintenance.storage.db import Base, UtcDateTime


class NotificationDelivery(Base):
    """One notification to one channel: pending until sent, or failed for good with the reason."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (Index("ix_notification_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(200))  # "webhook https://...", "email ops@..."
    recipient: Mapped[str] = mapped_column(String(200))
    ticket_id: Mapped[int | None] = mapped_column()
    alarm_id: Mapped[int | None] = mapped_column()
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # What it is about, for the channels that say it in a card (robots) and in a language.
    site: Mapped[str | None] = mapped_column(String(64))
    device: Mapped[str | None] = mapped_column(String(128))
    severity: Mapped[str | None] = mapped_column(String(20))
    facts: Mapped[dict[str, Any] | None] = mapped_column(JSON)

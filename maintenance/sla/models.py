from __future__ import annotations

from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from maintenance.storage.db import Base, UtcDateTime
from maintenance.vocabulary import Priority, TicketType


class SlaPolicyOverride(Base):
    """A site's (or every site's) own targets for a ticket type and/or priority."""

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("site_id", "ticket_type", "priority"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    ticket_type: Mapped[TicketType | None] = mapped_column(
        Enum(TicketType, native_enum=False, length=16)
    )
    priority: Mapped[Priority | None] = mapped_column(Enum(Priority, native_enum=False, length=16))
    response_minutes: Mapped[int]
    resolution_minutes: Mapped[int | None]
    progress_minutes: Mapped[int | None]


class SlaBreach(Base):
    """A recorded breach or near-breach; never deleted or recomputed."""

    __tablename__ = "sla_breaches"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # response|resolution|progress, near_*
    due: Mapped[datetime] = mapped_column(UtcDateTime)
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime)

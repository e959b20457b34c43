from __future__ import annotations

from sqlalchemy import Enum, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from maintenance.storage.db import Base
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

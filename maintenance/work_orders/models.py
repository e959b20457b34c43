from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, validates

from maintenance.storage.crypto import EncryptedText, cipher
from maintenance.storage.db import Base, UtcDateTime
from maintenance.vocabulary import Channel, Priority, TicketState, TicketType


def _enum(kind: type[Any]) -> Enum:
    return Enum(kind, native_enum=False, length=16)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_board", "site_id", "state", "priority", "created_at"),
        Index("ix_tickets_asset_created", "asset_id", "created_at"),
        Index("ix_tickets_assignee_state", "assignee_id", "state"),
        Index("ix_tickets_open_due", "state", "response_due"),
        Index("ix_tickets_asset_fault", "asset_id", "fault", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    type: Mapped[TicketType] = mapped_column(_enum(TicketType))
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    priority: Mapped[Priority] = mapped_column(_enum(Priority))
    state: Mapped[TicketState] = mapped_column(_enum(TicketState), default=TicketState.new)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Personal data: encrypted at rest; `requester_index` (a keyed hash) finds a requester's own.
    requester: Mapped[str] = mapped_column(EncryptedText, default="")
    requester_index: Mapped[str | None] = mapped_column(String(64), index=True)
    source_ref: Mapped[str | None] = mapped_column(String(200), unique=True)  # alarm / plan key
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id"))
    assignment_reason: Mapped[str] = mapped_column(Text, default="")
    committed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # technician's promise
    escalated: Mapped[bool] = mapped_column(default=False)
    escalated_to: Mapped[str | None] = mapped_column(String(200))
    escalation_reason: Mapped[str | None] = mapped_column(Text)

    response_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolution_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    progress_due: Mapped[datetime | None] = mapped_column(UtcDateTime)  # complex complaints
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    response_breached_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolution_breached_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    in_scope: Mapped[bool | None] = mapped_column()  # complaints: checked at intake
    complex: Mapped[bool] = mapped_column(default=False)
    return_visit_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    return_visit_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    satisfaction: Mapped[int | None] = mapped_column()
    satisfaction_comment: Mapped[str | None] = mapped_column(Text)
    reopen_count: Mapped[int] = mapped_column(default=0)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    verified_by: Mapped[str | None] = mapped_column(String(200))  # the quality inspector
    requester_confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    checklist: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # inspections
    parent_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))  # repair of
    # Failure statistics (see maintenance/work_orders/failures.py), set when the ticket opens:
    # the fault it records, and the earlier failure of the same asset and fault it repeats.
    fault: Mapped[str | None] = mapped_column(String(80))
    finding: Mapped[str | None] = mapped_column(String(20))  # predictive inspections: Finding
    repeat_of: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))

    __mapper_args__ = {"version_id_col": version}

    @validates("requester")
    def _index_requester(self, key: str, value: str) -> str:
        self.requester_index = cipher().index(value) if value else None
        return value


class TicketEvent(Base):
    """The audit trail: append-only, one row per change, with who, when and from -> to."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    changes: Mapped[dict[str, list[Any]]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")


class Comment(Base):
    __tablename__ = "ticket_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    author: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="comment")  # comment|progress|feedback
    body: Mapped[str] = mapped_column(Text)


class Attachment(Base):
    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    uploaded_by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime)

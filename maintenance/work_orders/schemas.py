"""What callers send and get back: the API's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue

from maintenance.vocabulary import Channel, Finding, Id, Priority, TicketState, TicketType
from maintenance.work_orders.lifecycle import Action

EXAMPLE: dict[str, JsonValue] = {
    "site_id": 1,
    "type": "repair",
    "channel": "hotline",
    "priority": "normal",
    "title": "Lift 2 door closes slowly",
    "asset_id": 12,
    "requester": "Unit 1203",
}


class _TicketFields(BaseModel):
    """What every new ticket says, however it comes in."""

    model_config = ConfigDict(extra="forbid")

    site_id: Id
    type: TicketType
    priority: Priority = Priority.normal
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)
    requester: str = Field("", max_length=200)
    asset_id: Id | None = None
    location_id: Id | None = None
    in_scope: bool | None = Field(None, description="complaints: the intake scope check")
    complex: bool = Field(False, description="complaints: progress report every 72 h")
    parent_ticket_id: Id | None = Field(None, description="the inspection a repair comes from")


class TicketCreate(_TicketFields):
    """A ticket as the service registers it: also what only its own sources set (the alarm
    stage, the schedule, checklist repairs)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    channel: Channel
    source_ref: str | None = Field(None, max_length=200, description="alarm or plan key")
    opened_at: datetime | None = Field(None, description="SLA start if not now (an alarm's raise)")
    due_at: datetime | None = Field(None, description="resolution due, when a schedule sets it")
    checklist: list[dict[str, Any]] | None = Field(None, description="inspection checklist items")
    fault: str | None = Field(None, max_length=80, description="failures: the alarm rule")


class TicketRequest(_TicketFields):
    """A ticket as a caller files it over the API: what a person or an integration may say.
    Which of these fields each caller may set is in `permissions.CREATE_FIELDS`; the rest
    (SLA, due times, checklists, system keys) the service derives."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                EXAMPLE,
                {"site_id": 1, "type": "repair", "title": "Tap leaking", "location_id": 3},
            ]
        },
    )

    channel: Channel | None = Field(None, description="how it came in; a requester's: app")
    source_ref: str | None = Field(None, max_length=200, description="an integration's own key")
    opened_at: AwareDatetime | None = Field(None, description="integrations: registered at")


class TransitionRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"action": "accept", "actor": "tech:wang", "committed_at": "2026-11-23T10:00:00Z"},
                {"action": "assign", "actor": "dispatcher:li", "technician_id": 4},
                {
                    "action": "verify",
                    "actor": "qa:zhao",
                    "inspector": "qa:zhao",
                    "requester_confirmed": True,
                },
            ]
        },
    )

    action: Action | str
    actor: str = Field(min_length=1, max_length=200)
    technician_id: Id | None = None
    committed_at: AwareDatetime | None = None
    note: str = Field("", max_length=10_000)
    inspector: str | None = None
    requester_confirmed: bool | None = None
    finding: Finding | None = Field(
        None,
        description="resolving a predictive inspection (an anomaly finding's ticket): whether "
        "a fault was found; the models learn from it",
    )
    expected_version: int | None = None


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    author: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=10_000)
    kind: str = Field("comment", pattern="^(comment|progress|feedback|return_visit)$")


class RatingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=2_000)
    actor: str = Field("requester", max_length=200)


class TicketRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    version: int
    site_id: Id
    asset_id: Id | None
    location_id: Id | None
    type: TicketType
    channel: Channel
    priority: Priority
    state: TicketState
    title: str
    description: str
    requester: str
    source_ref: str | None
    created_at: datetime
    updated_at: datetime
    assignee_id: Id | None
    assignment_reason: str
    committed_at: datetime | None
    escalated: bool
    escalated_to: str | None
    escalation_reason: str | None
    response_due: datetime | None
    resolution_due: datetime | None
    progress_due: datetime | None
    responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    response_breached_at: datetime | None
    resolution_breached_at: datetime | None
    in_scope: bool | None
    complex: bool
    return_visit_due: datetime | None
    return_visit_at: datetime | None
    satisfaction: int | None
    satisfaction_comment: str | None
    reopen_count: int
    cancel_reason: str | None
    verified_by: str | None
    requester_confirmed_at: datetime | None = None
    fault: str | None = Field(None, description="failures: the alarm rule, or `repair`")
    finding: Finding | None = Field(None, description="predictive inspections: the verdict")
    repeat_of: int | None = Field(
        None, description="the earlier failure of the same asset and fault within 30 days"
    )
    checklist: list[dict[str, Any]] | None = None
    parent_ticket_id: Id | None = None
    allowed_actions: list[str] = []


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    changes: dict[str, list[Any]]
    note: str


class CommentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    author: str
    kind: str
    body: str

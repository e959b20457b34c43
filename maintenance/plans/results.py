"""Recording an inspection's checklist: each item's result, and a linked repair ticket for every
failed item (the asset's defects are put out "while they are still sparks")."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from maintenance.errors import InvalidInput
from maintenance.flows import intake
from maintenance.language import phrases
from maintenance.notifications.notifier import Notifier
from maintenance.vocabulary import OPEN_STATES, Channel, Id, Priority, TicketType
from maintenance.work_orders import service
from maintenance.work_orders.models import Ticket
from maintenance.work_orders.schemas import TicketCreate


class ItemResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    result: Literal["pass", "fail", "not_applicable"]
    reading: float | None = None
    notes: str = Field("", max_length=2000)
    photo_attachment_id: Id | None = None


class ChecklistResults(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "actor": "tech:wang",
                    "items": [
                        {"key": "doors", "result": "pass"},
                        {
                            "key": "door_close_time",
                            "result": "fail",
                            "reading": 6.2,
                            "notes": "closes slowly",
                        },
                    ],
                }
            ]
        },
    )

    actor: str = Field(min_length=1, max_length=200)
    items: list[ItemResult] = Field(min_length=1)


def record_results(
    session: Session,
    ticket_id: int,
    data: ChecklistResults,
    *,
    now: datetime,
    notifier: Notifier,
) -> list[Ticket]:
    """Stores the results on the inspection ticket (audited) and opens one repair ticket per
    failed item, linked by `parent_ticket_id`. Returns the repair tickets."""
    ticket = service.get(session, ticket_id)
    template = _checked(ticket, data)
    before = service.snapshot(ticket)
    results = {item.key: item.model_dump() for item in data.items}
    ticket.checklist = [{**entry, "outcome": results[key]} for key, entry in template.items()]
    service.record(
        session,
        ticket,
        before,
        actor=data.actor,
        action="checklist",
        now=now,
        note=phrases.FAILED_ITEMS.write(count=sum(i.result == "fail" for i in data.items)),
    )
    failed = [i for i in data.items if i.result == "fail"]
    if not failed or ticket.asset_id is None:
        return []
    repairs = intake.create_many(
        session,
        [
            TicketCreate(
                site_id=ticket.site_id,
                asset_id=ticket.asset_id,
                type=TicketType.repair,
                channel=Channel.schedule,
                priority=Priority.normal,
                title=phrases.INSPECTION_FAILED.write(
                    ticket=ticket.id, item=template[i.key]["text"]
                )[:200],
                description=_describe(i, template[i.key]),
                source_ref=f"inspection:{ticket.id}:{i.key}",
                parent_ticket_id=ticket.id,
            )
            for i in failed
        ],
        actor=data.actor,
        now=now,
        notifier=notifier,
    )
    return repairs


def _checked(ticket: Ticket, data: ChecklistResults) -> dict[str, dict[str, Any]]:
    """The inspection's checklist by item key, once the results answer each item exactly once
    (a reading where the item asks for one); else the field at fault."""
    if ticket.type is not TicketType.inspection or not ticket.checklist:
        raise InvalidInput("ticket_id", "only an inspection with a checklist takes results")
    if ticket.state not in OPEN_STATES:
        raise InvalidInput("ticket_id", f"the inspection is {ticket.state.value}")
    template = {item["key"]: item for item in ticket.checklist}
    seen: set[str] = set()
    for n, item in enumerate(data.items):
        if item.key not in template:
            raise InvalidInput(f"items.{n}.key", f"not an item of this checklist: {item.key!r}")
        if item.key in seen:
            raise InvalidInput(f"items.{n}.key", f"{item.key!r} given twice")
        seen.add(item.key)
        if (
            template[item.key]["kind"] == "reading"
            and item.result != "not_applicable"
            and item.reading is None
        ):
            raise InvalidInput(f"items.{n}.reading", f"{item.key!r} needs a reading")
    missing = [k for k in template if k not in seen]
    if missing:
        raise InvalidInput("items", f"no result for: {', '.join(missing)}")
    return template


def _describe(item: ItemResult, entry: dict[str, Any]) -> str:
    notes = item.notes.strip() or "-"
    if item.reading is None:
        return phrases.RESULT_FAILED.write(item=entry["text"], notes=notes)
    reading = f"{item.reading} {entry.get('unit') or ''}".rstrip()
    return phrases.RESULT_FAILED_AT_READING.write(item=entry["text"], reading=reading, notes=notes)

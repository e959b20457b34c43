"""What each role reads of a work order: one rule for the API, the console, exports and
notifications (../shared/SERVICE_STANDARDS.md, information security: owner data is
confidential, access limited by role).

- A requester's name, unit and phone (the `requester` field) are read by the control room and
  by the requester themself; a technician sees the ticket's location, not the person.
- A requester reads the progress of their own request (state changes, the feedback the
  service gives them, their own comments), not the internal trail (assignment reasons,
  escalations, staff notes, who in the team did what)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, TypeVar

from maintenance.work_orders.permissions import CONTROL_ROOM, Caller

HIDDEN = ""  # what a reader without the right sees in place of personal data
# Comment kinds addressed to the requester.
TO_REQUESTER = frozenset({"feedback", "progress", "return_visit"})
# Trail entries a requester follows; the service speaks for its staff in them.
PUBLIC_ACTIONS = frozenset(
    {
        "create",
        "assign",
        "accept",
        "start",
        "resolve",
        "confirm",
        "verify",
        "reject",
        "close",
        "reopen",
        "cancel",
        "rate",
        "comment:feedback",
        "comment:progress",
        "comment:return_visit",
    }
)
SERVICE = "property service"


class TrailEntry(Protocol):
    id: int
    at: Any
    actor: str
    action: str
    changes: dict[str, list[Any]]
    note: str


class CommentEntry(Protocol):
    author: str
    kind: str


C = TypeVar("C", bound=CommentEntry)


def sees_requester(caller: Caller) -> bool:
    """May this caller read who filed a ticket? (A requester reads only their own tickets.)"""
    return caller.role in CONTROL_ROOM or caller.role == "requester"


# What the service's internal work says about a ticket (how it was dispatched, to whom it was
# escalated and why): not for the requester.
INTERNAL_FIELDS: dict[str, Any] = {
    "assignment_reason": "",
    "escalated_to": None,
    "escalation_reason": None,
}


def redactions(caller: Caller) -> dict[str, Any]:
    """The fields of a ticket this caller reads in another form, with what they read instead."""
    if caller.role == "requester":
        return dict(INTERNAL_FIELDS)
    if not sees_requester(caller):
        return {"requester": HIDDEN}
    return {}


def ticket_row(caller: Caller, row: dict[str, Any]) -> dict[str, Any]:
    """A ticket as this caller may read it (a dict of its columns)."""
    row.update(redactions(caller))
    return row


def trail(caller: Caller, events: Iterable[TrailEntry]) -> list[dict[str, Any]]:
    """The audit trail as this caller may read it."""
    out = []
    for e in events:
        entry = {
            "id": e.id,
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "changes": e.changes,
            "note": e.note,
        }
        if caller.role == "requester":
            if e.action not in PUBLIC_ACTIONS:
                continue
            mine = e.actor == caller.name
            entry["actor"] = e.actor if mine else SERVICE
            entry["changes"] = {k: v for k, v in e.changes.items() if k == "state"}
            if not mine and not e.action.startswith("comment:") and e.action != "cancel":
                entry["note"] = ""
        out.append(entry)
    return out


def comments(caller: Caller, items: Iterable[C]) -> list[C]:
    """A requester reads what the service addressed to them and what they wrote."""
    if caller.role != "requester":
        return list(items)
    return [c for c in items if c.kind in TO_REQUESTER or c.author == caller.name]

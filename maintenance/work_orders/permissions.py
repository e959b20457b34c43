"""Who may do what to a work order: the separation of duties of the service standards, in one
place. The API, the console and the CLI ask here; nothing else decides.

- requesters (residents, tenants) file repairs, complaints and suggestions in their own name,
  follow them, comment on them, confirm or reject the result and rate it; they may withdraw a
  request nobody has started;
- technicians accept, start, resolve, escalate and comment on the tickets assigned to them and
  fill in their checklists; they never assign, verify, close, cancel or reopen;
- the control room (engineers, managers, admins) registers and dispatches work, follows it and
  archives it; the quality inspector's second check (`verify`) is by someone who did not do
  the work.

Fields a caller may not set are refused with a 422 on the field (never silently taken): the
service derives times, SLA, source and, for a requester, the channel and their name."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from maintenance.errors import InvalidInput, NotFound
from maintenance.scope import Scope
from maintenance.vocabulary import Channel, Priority, TicketState, TicketType
from maintenance.work_orders.lifecycle import Action
from maintenance.work_orders.schemas import TicketCreate, TicketRequest, TransitionRequest

CONTROL_ROOM = frozenset({"admin", "manager", "engineer"})
# Who works tickets assigned to them: the in-house technicians and a contractor company's
# people (who in addition see only their company's assets: maintenance.scope).
FIELD_WORKERS = frozenset({"technician", "contractor"})
# Keys of the service's own sources (alarm tickets, plan occurrences, checklist repairs, patrols):
# a caller who wrote one could block the source that owns it.
SYSTEM_KEY_PREFIXES = ("alarm:", "plan:", "inspection:", "patrol:")

_BASE = frozenset({"site_id", "type", "title", "description", "asset_id", "location_id"})
CREATE_FIELDS: dict[str, frozenset[str]] = {
    "requester": _BASE,
    "technician": _BASE | {"channel", "priority", "requester", "parent_ticket_id"},
    "staff": _BASE
    | {"channel", "priority", "requester", "in_scope", "complex", "parent_ticket_id"},
    # Integrations (an API key) also bring the time a call was registered elsewhere and their
    # own reference, which makes a resend idempotent.
    "integration": _BASE
    | {
        "channel",
        "priority",
        "requester",
        "in_scope",
        "complex",
        "parent_ticket_id",
        "opened_at",
        "source_ref",
    },
}
CREATE_TYPES: dict[str, frozenset[TicketType]] = {
    "requester": frozenset({TicketType.repair, TicketType.complaint, TicketType.suggestion}),
    "technician": frozenset({TicketType.repair, TicketType.suggestion}),
    "staff": frozenset(
        {TicketType.repair, TicketType.complaint, TicketType.suggestion, TicketType.inspection}
    ),
}
# Channels that only the service's own sources use.
SYSTEM_CHANNELS = frozenset({Channel.alarm, Channel.schedule})

# Actions by role; technicians only on tickets assigned to them, requesters only on their own.
ACTIONS: dict[str, frozenset[str]] = {
    "requester": frozenset({Action.confirm, Action.reject, Action.cancel}),
    "technician": frozenset({Action.accept, Action.start, Action.resolve, "escalate"}),
    "staff": frozenset({*Action, "escalate"}) - {Action.confirm},
}
# A requester withdraws a request only before anyone has come to do it.
REQUESTER_CANCELS_IN = frozenset({TicketState.new, TicketState.assigned})
# Transition fields and the actions they belong to.
TRANSITION_FIELDS = {
    "technician_id": frozenset({Action.assign}),
    "committed_at": frozenset({Action.accept}),
    "inspector": frozenset({Action.verify}),
    "requester_confirmed": frozenset({Action.verify}),
    "finding": frozenset({Action.resolve}),
}
COMMENT_KINDS: dict[str, frozenset[str]] = {
    "requester": frozenset({"comment"}),
    "technician": frozenset({"comment", "progress"}),
    "staff": frozenset({"comment", "progress", "feedback", "return_visit"}),
}


class Caller(Protocol):
    """Who acts: api.auth.Principal, or the CLI's operator."""

    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def technician_id(self) -> int | None: ...
    @property
    def via(self) -> str: ...
    @property
    def scope(self) -> Scope: ...


class TicketFacts(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def state(self) -> TicketState: ...
    @property
    def requester(self) -> str: ...
    @property
    def assignee_id(self) -> int | None: ...
    @property
    def requester_confirmed_at(self) -> datetime | None: ...


def kind_of(caller: Caller) -> str:
    """requester, technician, staff (the control room) or integration (a control-room key)."""
    if caller.role in CONTROL_ROOM:
        return "integration" if caller.via == "api_key" else "staff"
    if caller.role in FIELD_WORKERS:
        return "technician"
    return caller.role


def owns(caller: Caller, ticket: TicketFacts) -> bool:
    return caller.role == "requester" and ticket.requester == caller.name


def assigned(caller: Caller, ticket: TicketFacts) -> bool:
    """A technician's own ticket (an account not linked to the roster has none: an unassigned
    ticket is nobody's)."""
    return (
        caller.role in FIELD_WORKERS
        and caller.technician_id is not None
        and ticket.assignee_id == caller.technician_id
    )


def admit(caller: Caller, data: TicketRequest, *, now: datetime, where: str = "") -> TicketCreate:
    """The ticket to register for this caller's request, or a 422 on the first field it may
    not set (`where` prefixes the path: `3.` in a batch): fields beyond its own, a type or
    channel that is not theirs, a key of the service's own sources, a time in the future. A
    requester's request is filed in their name, through the app, at normal priority."""
    kind = kind_of(caller)
    within(caller.scope, data, where)
    beyond = sorted(data.model_fields_set - CREATE_FIELDS[kind])
    if beyond:
        raise InvalidInput(f"{where}{beyond[0]}", f"set by the service, not by a {_who(caller)}")
    types = CREATE_TYPES["staff" if kind == "integration" else kind]
    if data.type not in types:
        raise InvalidInput(
            f"{where}type", f"a {_who(caller)} files {', '.join(sorted(t.value for t in types))}"
        )
    if data.channel in SYSTEM_CHANNELS:
        raise InvalidInput(f"{where}channel", "alarm and schedule tickets come from the service")
    if data.source_ref is not None and data.source_ref.startswith(SYSTEM_KEY_PREFIXES):
        raise InvalidInput(
            f"{where}source_ref",
            f"keys starting {', '.join(SYSTEM_KEY_PREFIXES)} belong to the service's own sources",
        )
    if data.opened_at is not None:
        if data.opened_at.tzinfo is None:
            raise InvalidInput(f"{where}opened_at", "needs a time zone offset")
        if data.opened_at > now:
            raise InvalidInput(f"{where}opened_at", "a request cannot be registered in the future")
    values = data.model_dump()
    if data.opened_at is not None:
        values["opened_at"] = data.opened_at.astimezone(UTC)
    if kind == "requester":
        values.update(requester=caller.name, channel=Channel.app, priority=Priority.normal)
    elif data.channel is None:
        raise InvalidInput(f"{where}channel", "say how the request came in (hotline, app, ...)")
    return TicketCreate(**values)


def within(scope: Scope, data: TicketRequest, where: str = "") -> None:
    """A request for a site (or, for a contractor's people, an asset) outside the caller's
    scope names something that, for them, does not exist: 404. A contractor's request needs
    one of the company's assets (422 on `asset_id`). That the asset is the site's is checked
    at intake."""
    if not scope.admits_site(data.site_id):
        raise NotFound("site", data.site_id)
    if scope.asset_ids is None:
        return
    if data.asset_id is None:
        raise InvalidInput(f"{where}asset_id", "name one of your company's assets")
    if data.asset_id not in scope.asset_ids:
        raise NotFound("asset", data.asset_id)


def why_not_act(
    caller: Caller, ticket: TicketFacts, action: str, *, did_the_work: set[str]
) -> str | None:
    """Why this caller may not take `action` on the ticket, or None. `did_the_work`: the
    names that started or resolved it (they may not verify it)."""
    kind = "staff" if kind_of(caller) == "integration" else kind_of(caller)
    if action not in ACTIONS[kind]:
        return f"a {_who(caller)} may not {action} tickets"
    if kind == "requester":
        if not owns(caller, ticket):
            return f"ticket {ticket.id} is not your request"
        if action == Action.cancel and ticket.state not in REQUESTER_CANCELS_IN:
            return "a request can be withdrawn only until work on it has begun"
        if action in (Action.confirm, Action.reject) and ticket.requester_confirmed_at:
            return "you have confirmed the result already"
    if kind == "technician" and not assigned(caller, ticket):
        return f"ticket {ticket.id} is not assigned to you"
    if action == Action.verify and caller.name in did_the_work:
        return "the quality check is by someone who did not do the work"
    return None


def check_transition_fields(request: TransitionRequest) -> None:
    """A field of another action is a 422 on it (an `inspector` on an accept, say)."""
    for name, actions in TRANSITION_FIELDS.items():
        if name in request.model_fields_set and request.action not in actions:
            raise InvalidInput(name, f"belongs to {', '.join(sorted(actions))}")


def why_not_touch(caller: Caller, ticket: TicketFacts, what: str) -> str | None:
    """Comments and attachments: the requester on their own, the technician on the ones
    assigned to them, the control room on any."""
    if caller.role == "requester" and not owns(caller, ticket):
        return f"ticket {ticket.id} is not your request"
    if caller.role in FIELD_WORKERS and not assigned(caller, ticket):
        return f"ticket {ticket.id} is not assigned to you"
    return None


def why_not_record_checklist(caller: Caller, ticket: TicketFacts) -> str | None:
    """Checklist results: the technician who does the inspection, or the control room."""
    if caller.role == "requester":
        return "requesters do not record checklists"
    return why_not_touch(caller, ticket, "record checklists")


def why_not_comment(caller: Caller, ticket: TicketFacts, kind: str) -> str | None:
    why = why_not_touch(caller, ticket, "comment")
    if why is not None:
        return why
    kinds = COMMENT_KINDS["staff" if caller.role in CONTROL_ROOM else kind_of(caller)]
    if kind not in kinds:
        return f"a {_who(caller)} writes {', '.join(sorted(kinds))}"
    return None


def why_not_rate(caller: Caller, ticket: TicketFacts) -> str | None:
    """The requester rates their own work; staff may record a survey; never a technician."""
    if caller.role in FIELD_WORKERS:
        return "technicians do not rate work"
    if caller.role == "requester" and not owns(caller, ticket):
        return f"ticket {ticket.id} is not your request"
    return None


def actions_for(caller: Caller, ticket: TicketFacts, allowed: list[str]) -> list[str]:
    """Of the state's allowed actions, those this caller may take (what the console shows)."""
    return [a for a in allowed if why_not_act(caller, ticket, a, did_the_work=set()) is None]


def _who(caller: Caller) -> str:
    return {"integration": "integration", "staff": caller.role}.get(kind_of(caller), caller.role)

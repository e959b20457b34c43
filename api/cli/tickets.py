"""`facility tickets list|show|create`: work orders from a shell."""

from __future__ import annotations

import argparse
import json
from typing import Any

from pydantic import ValidationError

from api.cli.formats import print_field_errors
from api.settings import Settings
from maintenance.flows import intake
from maintenance.notifications.notifier import LogNotifier
from maintenance.process import open_database
from maintenance.scope import EVERYTHING
from maintenance.storage.db import utcnow
from maintenance.vocabulary import Channel, Priority, TicketState, TicketType
from maintenance.work_orders import queries, service
from maintenance.work_orders.schemas import TicketCreate, TicketRead


def _row(t: TicketRead) -> str:
    due = t.response_due.isoformat(timespec="minutes") if t.response_due else "-"
    flags = ("!" if t.escalated else " ") + ("B" if t.response_breached_at else " ")
    return (
        f"#{t.id:<7} {t.state.value:11} {t.priority.value:9} {t.type.value:10} "
        f"site {t.site_id:<4} {flags} due {due}  {t.title}"
    )


def tickets_list(settings: Settings, args: argparse.Namespace) -> int:
    f = queries.TicketFilter(
        site_id=args.site,
        state=args.state,
        priority=args.priority,
        type=args.type,
        scope=EVERYTHING,  # the operator at the shell sees every site
    )
    with open_database(settings).transaction() as s:
        items, total = queries.list_tickets(
            s, f, now=utcnow(), limit=args.limit, offset=args.offset
        )
        print(f"{total} ticket(s)")
        for t in items:
            print(_row(TicketRead.model_validate(t)))
    return 0


def tickets_show(settings: Settings, args: argparse.Namespace) -> int:
    with open_database(settings).transaction() as s:
        ticket = TicketRead.model_validate(service.get(s, args.id))
        events = queries.audit_trail(s, args.id)
        print(json.dumps(ticket.model_dump(mode="json"), indent=2))
        print("audit trail:")
        for e in events:
            changes = ", ".join(f"{k}: {a} -> {b}" for k, (a, b) in e.changes.items())
            print(f"  {e.at.isoformat(timespec='seconds')} {e.actor}: {e.action}  {changes}")
    return 0


def tickets_create(settings: Settings, args: argparse.Namespace) -> int:
    fields: dict[str, Any] = {
        "site_id": args.site,
        "type": args.type,
        "channel": args.channel,
        "title": args.title,
        "priority": args.priority,
        "description": args.description,
        "requester": args.requester,
        "asset_id": args.asset,
        "location_id": args.location,
        "in_scope": args.in_scope,
    }
    try:
        data = TicketCreate(**{k: v for k, v in fields.items() if v is not None})
    except ValidationError as error:
        return print_field_errors(error, "ticket")
    with open_database(settings).transaction() as s:
        ticket = intake.create(s, data, actor="cli", now=utcnow(), notifier=LogNotifier())
        print(_row(TicketRead.model_validate(ticket)))
        print(f"  {ticket.assignment_reason}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tickets = sub.add_parser("tickets", help="work orders").add_subparsers(
        dest="verb", required=True
    )
    listing = tickets.add_parser("list", help="newest first")
    listing.add_argument("--site", type=int)
    listing.add_argument("--state", choices=[s.value for s in TicketState])
    listing.add_argument("--priority", choices=[p.value for p in Priority])
    listing.add_argument("--type", choices=[t.value for t in TicketType])
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--offset", type=int, default=0)
    listing.set_defaults(func=tickets_list)
    show = tickets.add_parser("show", help="one ticket with its audit trail")
    show.add_argument("id", type=int)
    show.set_defaults(func=tickets_show)
    create = tickets.add_parser("create", help="register a request; dispatch follows")
    create.add_argument("--site", type=int, required=True)
    create.add_argument("--type", choices=[t.value for t in TicketType], required=True)
    create.add_argument("--channel", choices=[c.value for c in Channel], default="front_desk")
    create.add_argument("--priority", choices=[p.value for p in Priority], default="normal")
    create.add_argument("--title", required=True)
    create.add_argument("--description")
    create.add_argument("--requester")
    create.add_argument("--asset", type=int)
    create.add_argument("--location", type=int)
    create.add_argument(
        "--in-scope",
        dest="in_scope",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="complaints: the intake scope check",
    )
    create.set_defaults(func=tickets_create)

"""`facility tickets ...` and `facility assets ...`: the work-order basics for operators,
straight on the database the settings name."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from api.runtime import open_database
from api.settings import Settings
from maintenance.assets import csvio
from maintenance.flows import intake
from maintenance.notifications.notifier import LogNotifier
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
        site_id=args.site, state=args.state, priority=args.priority, type=args.type
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
        for e in error.errors():
            print(f"facility: {'.'.join(map(str, e['loc']))}: {e['msg']}", file=sys.stderr)
        return 2
    with open_database(settings).transaction() as s:
        ticket = intake.create(s, data, actor="cli", now=utcnow(), notifier=LogNotifier())
        print(_row(TicketRead.model_validate(ticket)))
        print(f"  {ticket.assignment_reason}")
    return 0


def assets_import(settings: Settings, args: argparse.Namespace) -> int:
    with open_database(settings).transaction() as s:
        report = csvio.import_assets(s, Path(args.file).read_text(encoding="utf-8-sig"))
    print(f"created {report.created}, updated {report.updated}, rejected {len(report.rejected)}")
    for r in report.rejected:
        print(f"  line {r.line}: {r.field}: {r.reason}")
    return 1 if report.rejected else 0


def assets_export(settings: Settings, args: argparse.Namespace) -> int:
    with open_database(settings).transaction() as s:
        sys.stdout.write(csvio.export_assets(s, args.site))
    return 0


def plans_list(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from maintenance.plans.models import InspectionPlan

    with open_database(settings).transaction() as s:
        for p in s.scalars(select(InspectionPlan).order_by(InspectionPlan.id)):
            cadence = p.rrule or f"every {p.every} {p.unit}"
            scope = (
                ", ".join(
                    f"{k} {v}"
                    for k, v in (
                        ("site", p.site_id),
                        ("system", getattr(p.system, "value", None)),
                        ("type", p.asset_type),
                        ("asset", p.asset_id),
                    )
                    if v is not None
                )
                or "all assets"
            )
            state = "paused" if p.paused else "active"
            print(f"#{p.id:<4} {state:6} {cadence:18} from {p.starts_on}  {scope:28} {p.name}")
    return 0


def plans_preview(settings: Settings, args: argparse.Namespace) -> int:
    from maintenance.plans.models import InspectionPlan
    from maintenance.plans.service import preview
    from maintenance.storage.db import get_required

    with open_database(settings).transaction() as s:
        plan = get_required(s, InspectionPlan, args.id, "plan")
        items = preview(s, plan, today=utcnow().date(), days=args.days)
    print(f"{len(items)} occurrence(s) in the next {args.days} days")
    for item in items:
        print(f"  {item.day}  asset {item.asset_id:<6} due {item.due_at.isoformat()}")
    return 0


PLAN_OPTIONS = (
    "name",
    "site_id",
    "system",
    "asset_type",
    "asset_id",
    "every",
    "unit",
    "rrule",
    "starts_on",
    "lead_days",
    "usage_metric",
    "usage_every",
)


def plans_create(settings: Settings, args: argparse.Namespace) -> int:
    """create, or with an id `change`: the options given replace the plan's."""
    from maintenance.plans.models import InspectionPlan
    from maintenance.plans.service import PlanCreate, PlanRead, save_plan
    from maintenance.storage.db import get_required

    fields: dict[str, Any] = {
        "name": args.name,
        "site_id": args.site,
        "system": args.system,
        "asset_type": args.asset_type,
        "asset_id": args.asset,
        "every": args.every,
        "unit": args.unit,
        "rrule": args.rrule,
        "starts_on": args.starts_on,
        "lead_days": args.lead_days,
        "usage_metric": args.usage_metric,
        "usage_every": args.usage_every,
    }
    given = {k: v for k, v in fields.items() if v is not None}
    with open_database(settings).transaction() as s:
        plan = None
        if getattr(args, "id", None) is not None:
            plan = get_required(s, InspectionPlan, args.id, "plan")
            current = PlanRead.model_validate(plan).model_dump()
            given = {**{k: current[k] for k in PLAN_OPTIONS}, **given}
        try:
            data = PlanCreate(**given)
        except ValidationError as error:
            for e in error.errors():
                where = ".".join(map(str, e["loc"])) or "plan"
                print(f"facility: {where}: {e['msg']}", file=sys.stderr)
            return 2
        saved = save_plan(s, data, now=utcnow(), plan=plan)
        print(f"plan #{saved.id} {'changed' if plan else 'created'}: {saved.name}")
    return 0


def plans_pause(settings: Settings, args: argparse.Namespace) -> int:
    from maintenance.plans.models import InspectionPlan
    from maintenance.storage.db import get_required

    with open_database(settings).transaction() as s:
        get_required(s, InspectionPlan, args.id, "plan").paused = args.verb == "pause"
    print(f"plan #{args.id} {'paused' if args.verb == 'pause' else 'resumed'}")
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
    assets = sub.add_parser("assets", help="equipment ledger").add_subparsers(
        dest="verb", required=True
    )
    load = assets.add_parser("import", help="CSV in; a per-row report of rejections")
    load.add_argument("file")
    load.set_defaults(func=assets_import)
    dump = assets.add_parser("export", help="CSV to standard output")
    dump.add_argument("--site", type=int)
    dump.set_defaults(func=assets_export)
    plans = sub.add_parser("plans", help="inspection plans").add_subparsers(
        dest="verb", required=True
    )
    plans.add_parser("list").set_defaults(func=plans_list)
    new = plans.add_parser("create", help="a calendar, RRULE or usage-based plan")
    change = plans.add_parser("change", help="replace the given options of a plan")
    change.add_argument("id", type=int)
    for parser_, creating in ((new, True), (change, False)):
        _plan_options(parser_, creating)
    ahead = plans.add_parser("preview", help="what the next days would generate")
    ahead.add_argument("id", type=int)
    ahead.add_argument("--days", type=int, default=365)
    ahead.set_defaults(func=plans_preview)
    for verb in ("pause", "resume"):
        toggle = plans.add_parser(verb)
        toggle.add_argument("id", type=int)
        toggle.set_defaults(func=plans_pause)


def _plan_options(new: argparse.ArgumentParser, creating: bool) -> None:
    new.add_argument("--name", required=creating)
    new.add_argument("--site", type=int)
    new.add_argument("--system", choices=["elevator", "water", "power", "fire", "camera"])
    new.add_argument("--asset-type", dest="asset_type")
    new.add_argument("--asset", type=int)
    new.add_argument("--every", type=int)
    new.add_argument("--unit", choices=["days", "weeks", "months", "quarters", "years"])
    new.add_argument("--rrule", help='e.g. "FREQ=MONTHLY;BYDAY=1MO"')
    new.add_argument("--starts-on", dest="starts_on", required=creating, help="YYYY-MM-DD")
    new.add_argument("--lead-days", dest="lead_days", type=int)
    new.add_argument("--usage-metric", dest="usage_metric", help="e.g. trips")
    new.add_argument("--usage-every", dest="usage_every", type=float)
    new.set_defaults(func=plans_create)

"""`facility plans list|create|change|preview|pause|resume|site`: inspection plans and a
site's programmes."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.cli.formats import print_field_errors
from api.settings import Settings
from maintenance.assets.models import Site
from maintenance.plans.cadence import UNITS
from maintenance.plans.models import InspectionPlan
from maintenance.plans.programmes import ProgrammeChange, change_for_site, site_programmes
from maintenance.plans.service import PlanCreate, PlanRead, all_plans, preview, save_plan
from maintenance.process import open_database
from maintenance.scope import EVERYTHING
from maintenance.storage.db import get_required, utcnow


def plans_list(settings: Settings, args: argparse.Namespace) -> int:
    with open_database(settings).transaction() as s:
        for p in all_plans(s, scope=EVERYTHING):
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
    with open_database(settings).transaction() as s:
        plan = get_required(s, InspectionPlan, args.id, "plan")
        items = preview(s, plan, today=utcnow().date(), days=args.days, scope=EVERYTHING)
    print(f"{len(items)} occurrence(s) in the next {args.days} days")
    for item in items:
        print(f"  {item.day}  asset {item.asset_id:<6} due {item.due_at.isoformat()}")
    return 0


def plans_create(settings: Settings, args: argparse.Namespace) -> int:
    """create, or with an id `change`: the options given replace the plan's."""
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
            given = {**{k: current[k] for k in PlanCreate.model_fields}, **given}
        try:
            data = PlanCreate(**given)
        except ValidationError as error:
            return print_field_errors(error, "plan")
        saved = save_plan(s, data, now=utcnow(), scope=EVERYTHING, plan=plan)
        print(f"plan #{saved.id} {'changed' if plan else 'created'}: {saved.name}")
    return 0


def plans_pause(settings: Settings, args: argparse.Namespace) -> int:
    """pause or resume: the plan saved with `paused` changed, as `PUT /plans/{id}` does."""
    paused = args.verb == "pause"
    with open_database(settings).transaction() as s:
        plan = get_required(s, InspectionPlan, args.id, "plan")
        current = PlanRead.model_validate(plan).model_dump()
        kept = {k: current[k] for k in PlanCreate.model_fields}
        save_plan(
            s,
            PlanCreate(**{**kept, "paused": paused}),
            now=utcnow(),
            scope=EVERYTHING,
            plan=plan,
        )
    print(f"plan #{args.id} {'paused' if paused else 'resumed'}")
    return 0


def _site_id(s: Session, site: str) -> int | None:
    """A site named by its code (as the README writes it) or its id."""
    found = s.scalar(select(Site.id).where(Site.code == site))
    if found is None and site.isdigit():
        found = s.scalar(select(Site.id).where(Site.id == int(site)))
    return found


def plans_site(settings: Settings, args: argparse.Namespace) -> int:
    """A site's programmes; with a plan id, enable, disable or edit one for the site."""
    with open_database(settings).transaction() as s:
        site_id = _site_id(s, args.site)
        if site_id is None:
            print(f"no site {args.site!r} (give its code or id)", file=sys.stderr)
            return 2
        args.site = site_id
        if args.plan is not None:
            fields = {
                k: getattr(args, k)
                for k in ("every", "unit", "early_days", "late_days", "lead_days", "anchoring")
                if getattr(args, k) is not None
            }
            try:
                change = ProgrammeChange(enabled=not args.disable, **fields)
            except ValidationError as error:
                return print_field_errors(error, "programme")
            own = change_for_site(s, args.site, args.plan, change, now=utcnow())
            print(f"site {args.site}: plan #{own.id} {'disabled' if own.paused else 'enabled'}")
            return 0
        for p in site_programmes(s, args.site):
            state = "enabled" if p.enabled else "disabled"
            mine = f"own #{p.own_plan_id}" if p.own_plan_id else "shipped"
            window = f"-{p.early_days}/+{p.late_days} d"
            print(
                f"#{p.plan_id:<4} {state:8} {mine:9} every {p.every} {p.unit:11} {window:10} "
                f"{p.anchoring:8} {p.name} [{p.standard or '-'}]"
            )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    site = plans.add_parser("site", help="a site's programmes: list, or enable/disable/edit one")
    site.add_argument("site", help="the site's code (or id)")
    site.add_argument("plan", type=int, nargs="?", help="a shipped programme's plan id")
    site.add_argument("--disable", action="store_true", help="(else: enabled)")
    site.add_argument("--every", type=int)
    site.add_argument("--unit", choices=list(UNITS))
    site.add_argument("--early-days", dest="early_days", type=int)
    site.add_argument("--late-days", dest="late_days", type=int)
    site.add_argument("--lead-days", dest="lead_days", type=int)
    site.add_argument("--anchoring", choices=["fixed", "floating"])
    site.set_defaults(func=plans_site)


def _plan_options(new: argparse.ArgumentParser, creating: bool) -> None:
    new.add_argument("--name", required=creating)
    new.add_argument("--site", type=int)
    new.add_argument("--system", choices=["elevator", "water", "power", "fire", "camera"])
    new.add_argument("--asset-type", dest="asset_type")
    new.add_argument("--asset", type=int)
    new.add_argument("--every", type=int)
    new.add_argument("--unit", choices=list(UNITS))
    new.add_argument("--rrule", help='e.g. "FREQ=MONTHLY;BYDAY=1MO"')
    new.add_argument("--starts-on", dest="starts_on", required=creating, help="YYYY-MM-DD")
    new.add_argument("--lead-days", dest="lead_days", type=int)
    new.add_argument("--usage-metric", dest="usage_metric", help="e.g. trips")
    new.add_argument("--usage-every", dest="usage_every", type=float)
    new.set_defaults(func=plans_create)

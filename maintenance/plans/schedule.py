"""Which occurrences of a plan are due, per asset: on the schedule (fixed), after the last
completion (floating), on the ledger's date (an authority's inspection), or after the last
occurrence of a usage-or-calendar plan; each with its tolerance window, and none on a date a
higher tier of the same programme takes for that asset (the tier replaces it)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from maintenance.assets.models import Asset, Site
from maintenance.plans.cadence import Cadence, due_at, local_date, starts_at
from maintenance.plans.models import InspectionPlan, PlanOccurrence
from maintenance.vocabulary import TicketState
from maintenance.work_orders.models import Ticket

DONE = (TicketState.resolved, TicketState.verified, TicketState.closed)


@dataclass(frozen=True, slots=True)
class Occurrence:
    plan: InspectionPlan
    asset_id: int
    site_id: int
    period: str  # a local date, or usage:<metric>:<k>
    due_at: datetime  # the end of the tolerance window
    baseline: bool = False  # a usage plan's first reading: claimed, no ticket
    opens_at: datetime | None = None  # the window's start (None: no window)
    checklist: tuple[dict[str, Any], ...] = ()

    @property
    def key(self) -> tuple[int, int, str]:
        return self.plan.id, self.asset_id, self.period


def cadence_of(plan: InspectionPlan) -> Cadence:
    return Cadence(plan.every, plan.unit, plan.rrule)  # type: ignore[arg-type]


def plan_assets(session: Session, plan: InspectionPlan) -> list[tuple[int, int, str]]:
    """(asset id, site id, site time zone) of every asset the plan covers."""
    q = (
        select(Asset.id, Asset.site_id, Site.timezone)
        .join(Site, Site.id == Asset.site_id)
        .where(*plan.coverage())
    )
    return [(a, s, z) for a, s, z in session.execute(q.order_by(Asset.id))]


def window(plan: InspectionPlan, day: date, zone: str) -> tuple[datetime | None, datetime]:
    """(opens, closes) of an occurrence on local day D: from the start of D - early_days to the
    end of D + late_days in the site's zone; a plan without a window closes at the end of D."""
    closes = due_at(day + timedelta(days=plan.late_days), zone)
    if not plan.has_window:
        return None, closes
    return starts_at(day - timedelta(days=plan.early_days), zone), closes


class Tiers:
    """A programme's tiers (plans sharing `programme`): on an asset's date that a higher tier
    (a longer cadence) also falls on, the higher one is generated and the lower one is not; a
    tier's checklist is its own items after the lower tiers'."""

    def __init__(self, session: Session, plans: list[InspectionPlan]) -> None:
        self._session = session
        self._plans = [p for p in plans if p.programme and not p.usage_metric]
        self._covered: dict[int, set[int]] = {}
        self._dates: dict[tuple[int, str, date], set[date]] = {}

    def _same(self, plan: InspectionPlan) -> list[InspectionPlan]:
        return [p for p in self._plans if p.programme == plan.programme and p.id != plan.id]

    def higher(self, plan: InspectionPlan) -> list[InspectionPlan]:
        rank = cadence_of(plan).rank
        return [
            p
            for p in self._same(plan)
            if not p.paused and not p.due_from_ledger and cadence_of(p).rank > rank
        ]

    def taken(
        self, higher: list[InspectionPlan], asset_id: int, zone: str, day: date, horizon: date
    ) -> bool:
        for p in higher:
            if p.id not in self._covered:
                self._covered[p.id] = {a for a, _, _ in plan_assets(self._session, p)}
            if asset_id not in self._covered[p.id]:
                continue
            key = (p.id, zone, horizon)
            if key not in self._dates:
                self._dates[key] = set(cadence_of(p).dates(p.starts_on, horizon))
            if day in self._dates[key]:
                return True
        return False

    def checklist(self, plan: InspectionPlan) -> tuple[dict[str, Any], ...]:
        if not plan.programme:
            return tuple(plan.checklist)
        rank = cadence_of(plan).rank
        lower = sorted(
            (
                p
                for p in self._same(plan)
                if cadence_of(p).rank < rank and p.site_id in (None, plan.site_id)
            ),
            key=lambda p: (cadence_of(p).rank, p.id),
        )
        seen: set[str] = set()
        out = []
        for item in [*(i for p in lower for i in p.checklist), *plan.checklist]:
            if item.get("key") not in seen:
                seen.add(item.get("key", ""))
                out.append(item)
        return tuple(out)


def occurrences(
    session: Session,
    plan: InspectionPlan,
    until: datetime,
    tiers: Tiers,
    *,
    horizon_date: date | None = None,
) -> Iterator[Occurrence]:
    """Every occurrence of the plan whose ticket should exist by `until` (due within lead time),
    or, given `horizon_date`, every one on a day up to that (a preview)."""
    checklist = tiers.checklist(plan)
    days: dict[int, Any] | None
    if plan.due_from_ledger:
        days = _ledger_days(session, plan)
    elif plan.anchoring == "floating" or plan.usage_or_calendar:
        days = _floating_days(session, plan)
    else:
        days = None
    higher = tiers.higher(plan) if plan.programme else []
    by_zone: dict[str, list[date]] = {}
    first = max(plan.starts_on, plan.active_from or plan.starts_on)
    for asset_id, site_id, zone in plan_assets(session, plan):
        horizon = horizon_date or local_date(until, zone) + timedelta(days=plan.lead_days)
        own: Sequence[date | None]
        if days is not None:
            own = [_next(days, asset_id, zone, plan, first)]
        else:
            if zone not in by_zone:
                by_zone[zone] = list(cadence_of(plan).dates(plan.starts_on, horizon))
            own = by_zone[zone]
        for day in own:
            if day is None or day < first or day > horizon:
                continue
            if higher and tiers.taken(higher, asset_id, zone, day, horizon):
                continue
            opens, closes = window(plan, day, zone)
            yield Occurrence(
                plan, asset_id, site_id, day.isoformat(), closes, False, opens, checklist
            )


# What floating plans know of an asset: its newest occurrence's day and whether it still waits
# for its ticket's completion (None: no occurrence yet).
Last = dict[int, tuple[date | datetime, bool] | None]


def _floating_days(session: Session, plan: InspectionPlan) -> Last:
    """Per asset: the moment the next occurrence counts from (the completion of the newest one,
    its day if it was cancelled, or, for usage-or-calendar plans, the newest occurrence of either
    kind) and whether it is still open (no new one then)."""
    rows = session.execute(
        select(
            PlanOccurrence.asset_id,
            PlanOccurrence.period,
            PlanOccurrence.due_at,
            PlanOccurrence.generated_at,
            Ticket.state,
            Ticket.resolved_at,
        )
        .outerjoin(Ticket, Ticket.id == PlanOccurrence.ticket_id)
        .where(
            # a site's version goes on from what the shipped plan did for the site's assets
            PlanOccurrence.plan_id.in_([plan.id, plan.overrides_id or plan.id]),
            PlanOccurrence.ticket_id.is_not(None),
        )
        .order_by(PlanOccurrence.asset_id, PlanOccurrence.due_at)
    )
    last: Last = {}
    for asset_id, period, _, generated, state, resolved in rows:
        day: date | datetime = generated if period.startswith("usage:") else _day(period)
        if plan.usage_or_calendar:
            last[asset_id] = (day, False)
        elif state in DONE and resolved is not None:
            last[asset_id] = (resolved, False)
        elif state == TicketState.cancelled:
            last[asset_id] = (day, False)
        else:
            last[asset_id] = (day, True)
    return last


def _day(period: str) -> date:
    return date.fromisoformat(period)


def _ledger_days(session: Session, plan: InspectionPlan) -> dict[int, date | None]:
    q = select(Asset.id, Asset.inspection_due).join(Site, Site.id == Asset.site_id)
    out: dict[int, date | None] = {}
    for asset_id, day in session.execute(q.where(*plan.coverage())):
        out[asset_id] = day
    return out


def _next(
    days: dict[int, Any], asset_id: int, zone: str, plan: InspectionPlan, first: date
) -> date | None:
    value = days.get(asset_id)
    if plan.due_from_ledger:
        return value if isinstance(value, date) else None
    if value is None:  # no occurrence yet: the schedule's first one
        return next(iter(cadence_of(plan).dates(first, date.max)), None)
    moment, open_ = value
    if open_:
        return None
    day = local_date(moment, zone) if isinstance(moment, datetime) else moment
    return cadence_of(plan).after(day)

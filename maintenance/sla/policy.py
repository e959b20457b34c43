"""SLA targets per ticket type and priority, and the due times they give a ticket.

Defaults come from the service standards (../shared/SERVICE_STANDARDS.md); sites override them
(sla_policies table). Lookup by key, most specific first: (type, priority), (priority),
(type), (any); for each key the site's policy, then the all-sites policy, then the built-in
default. Priority outranks type, so an emergency repair gets the emergency response time even
where a site has its own repair targets (a site can still set (repair, emergency) itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from maintenance.assets.calendar import BusinessCalendar
from maintenance.sla.models import SlaPolicyOverride
from maintenance.vocabulary import Priority, TicketType

HOUR = 60


@dataclass(frozen=True, slots=True)
class SlaTarget:
    response_minutes: int
    resolution_minutes: int | None = None
    progress_minutes: int | None = None  # complex complaints: a progress report this often
    source: str = "default"


# (type, priority) -> target; None is "any".
DEFAULTS: dict[tuple[TicketType | None, Priority | None], SlaTarget] = {
    (None, Priority.emergency): SlaTarget(15, 48 * HOUR),
    (None, Priority.urgent): SlaTarget(30, 48 * HOUR),
    (TicketType.repair, None): SlaTarget(24 * HOUR, 48 * HOUR),
    (TicketType.alarm, None): SlaTarget(30, 48 * HOUR),
    (TicketType.complaint, None): SlaTarget(24 * HOUR, None, 72 * HOUR),
    (TicketType.suggestion, None): SlaTarget(30),
    (TicketType.inspection, None): SlaTarget(24 * HOUR),
    (None, None): SlaTarget(30),
}


def _keys(
    ticket_type: TicketType, priority: Priority
) -> list[tuple[TicketType | None, Priority | None]]:
    return [(ticket_type, priority), (None, priority), (ticket_type, None), (None, None)]


class SlaPolicies:
    """The overrides of some sites (and the all-sites ones), loaded in one query."""

    def __init__(self, session: Session, site_ids: set[int]) -> None:
        rows = session.scalars(
            select(SlaPolicyOverride).where(
                or_(SlaPolicyOverride.site_id.in_(site_ids), SlaPolicyOverride.site_id.is_(None))
            )
        ).all()
        self._overrides = {(r.site_id, r.ticket_type, r.priority): r for r in rows}

    def target(self, site_id: int | None, ticket_type: TicketType, priority: Priority) -> SlaTarget:
        for t, p in _keys(ticket_type, priority):
            for scope in (site_id, None):
                row = self._overrides.get((scope, t, p))
                if row is not None:
                    where = f"site {scope}" if scope is not None else "all sites"
                    return SlaTarget(
                        row.response_minutes,
                        row.resolution_minutes,
                        row.progress_minutes,
                        f"policy #{row.id} ({where})",
                    )
            if (t, p) in DEFAULTS:
                return DEFAULTS[(t, p)]
        raise AssertionError("the (None, None) default always matches")


def target_for(
    session: Session, site_id: int, ticket_type: TicketType, priority: Priority
) -> SlaTarget:
    return SlaPolicies(session, {site_id}).target(site_id, ticket_type, priority)


@dataclass(frozen=True, slots=True)
class DueTimes:
    response_due: datetime
    resolution_due: datetime | None
    progress_due: datetime | None


def due_times(
    target: SlaTarget,
    start: datetime,
    calendar: BusinessCalendar,
    priority: Priority,
    complex_complaint: bool = False,
) -> DueTimes:
    """Emergencies run on 24/7 clocks whatever the site's calendar says."""

    def add(minutes: int) -> datetime:
        if priority is Priority.emergency:
            return start + timedelta(minutes=minutes)
        return calendar.add_minutes(start, minutes)

    return DueTimes(
        response_due=add(target.response_minutes),
        resolution_due=add(target.resolution_minutes) if target.resolution_minutes else None,
        progress_due=(
            add(target.progress_minutes) if complex_complaint and target.progress_minutes else None
        ),
    )

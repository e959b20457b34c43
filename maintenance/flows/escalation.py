"""Escalation to a supervisor: the site's, else the technician's team's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from maintenance.assets.models import Site
from maintenance.dispatch.models import Team, Technician
from maintenance.notifications.notifier import Notification, Notifier
from maintenance.vocabulary import Priority
from maintenance.work_orders.models import Ticket
from maintenance.work_orders.service import record, snapshot


def supervisor_for(session: Session, ticket: Ticket) -> str:
    site = session.get(Site, ticket.site_id)
    if site and site.supervisor:
        return site.supervisor
    if ticket.assignee_id is not None:
        technician = session.get(Technician, ticket.assignee_id)
        if technician and technician.team_id:
            team = session.get(Team, technician.team_id)
            if team and team.supervisor:
                return team.supervisor
    return "supervisor"


def escalate(
    session: Session,
    ticket: Ticket,
    reason: str,
    *,
    now: datetime,
    notifier: Notifier,
    actor: str = "system",
    raise_priority: bool = False,
) -> None:
    before = snapshot(ticket)
    ticket.escalated = True
    ticket.escalated_to = supervisor_for(session, ticket)
    ticket.escalation_reason = reason
    if raise_priority:
        ticket.priority = Priority(ticket.priority).raised()
    record(session, ticket, before, actor=actor, action="escalate", now=now, note=reason)
    notifier.notify(Notification("escalation", ticket.escalated_to, ticket.id, reason))

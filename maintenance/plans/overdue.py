"""Overdue regulated inspections: an occurrence of a regulated programme whose tolerance window
closed without its ticket done notifies the site's manager (the site's supervisor), once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from maintenance.assets.models import Asset, Site
from maintenance.notifications.notifier import Notification, Notifier
from maintenance.plans.models import InspectionPlan, PlanOccurrence
from maintenance.plans.schedule import DONE
from maintenance.work_orders.models import Ticket

KIND = "regulated_overdue"
MAX_PER_RUN = 1000


def notify_overdue(session: Session, *, now: datetime, notifier: Notifier) -> int:
    """Returns how many were notified (at most MAX_PER_RUN a run; the rest on the next)."""
    rows = session.execute(
        select(
            PlanOccurrence.id,
            PlanOccurrence.period,
            PlanOccurrence.due_at,
            PlanOccurrence.ticket_id,
            InspectionPlan.name,
            InspectionPlan.standard,
            Asset.code,
            Site.code,
            Site.supervisor,
        )
        .join(InspectionPlan, InspectionPlan.id == PlanOccurrence.plan_id)
        .join(Ticket, Ticket.id == PlanOccurrence.ticket_id)
        .join(Asset, Asset.id == PlanOccurrence.asset_id)
        .join(Site, Site.id == Asset.site_id)
        .where(
            InspectionPlan.regulated.is_(True),
            PlanOccurrence.due_at < now,
            PlanOccurrence.overdue_notified_at.is_(None),
            Ticket.state.not_in(DONE),
        )
        .order_by(PlanOccurrence.due_at, PlanOccurrence.id)
        .limit(MAX_PER_RUN)
    ).all()
    for _, period, due, ticket_id, name, standard, asset, site, supervisor in rows:
        source = f" ({standard.get('id')})" if standard else ""
        notifier.notify(
            Notification(
                kind=KIND,
                recipient=supervisor or "supervisor",
                ticket_id=ticket_id,
                message=f"Overdue regulated inspection: {name}{source} · {asset} ({period})",
                site=site,
                facts={"due": due.isoformat(), "standard": str((standard or {}).get("id", ""))},
            )
        )
    if rows:
        session.execute(
            update(PlanOccurrence)
            .where(PlanOccurrence.id.in_([r[0] for r in rows]))
            .values(overdue_notified_at=now)
        )
    return len(rows)

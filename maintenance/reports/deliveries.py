"""The notification delivery log as a caller may read it: the deliveries about tickets and
alarms of their scope (those about nothing in particular only for whoever sees everything)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from maintenance.alarms.models import Alarm
from maintenance.notifications.models import NotificationDelivery
from maintenance.scope import Scope
from maintenance.work_orders.models import Ticket


def deliveries(
    session: Session,
    *,
    scope: Scope,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 100,
) -> list[NotificationDelivery]:
    """Newest first."""
    d = NotificationDelivery
    query = select(d)
    if not scope.everything:
        query = query.where(
            or_(
                d.ticket_id.in_(
                    select(Ticket.id).where(scope.where(Ticket.site_id, Ticket.asset_id))
                ),
                d.alarm_id.in_(select(Alarm.id).where(scope.where(Alarm.site_id, Alarm.asset_id))),
            )
        )
    if status is not None:
        query = query.where(d.status == status)
    if kind is not None:
        query = query.where(d.kind == kind)
    return list(session.scalars(query.order_by(d.id.desc()).limit(limit)))

"""Moving a ticket on: the lifecycle's actions (work_orders), escalation (to a supervisor), the
technician of an assignment looked up in the roster, and optimistic locking."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from maintenance.dispatch import contractors
from maintenance.dispatch.models import Technician
from maintenance.errors import ConcurrentUpdate, InvalidInput
from maintenance.flows.escalation import escalate
from maintenance.notifications.notifier import Notifier
from maintenance.storage.db import get_required
from maintenance.vocabulary import OPEN_STATES, TicketState
from maintenance.work_orders import service
from maintenance.work_orders.lifecycle import Action, TransitionNotAllowed
from maintenance.work_orders.models import Ticket
from maintenance.work_orders.schemas import TransitionRequest


def transition(
    session: Session,
    ticket_id: int,
    request: TransitionRequest,
    *,
    now: datetime,
    notifier: Notifier,
) -> Ticket:
    ticket = service.get(session, ticket_id)
    if request.expected_version is not None and request.expected_version != ticket.version:
        raise ConcurrentUpdate(ticket_id)
    if request.action == "escalate":
        if ticket.state not in OPEN_STATES:
            raise TransitionNotAllowed(TicketState(ticket.state), "escalate")
        if not request.note:
            raise InvalidInput("note", "say why the ticket is escalated")
        escalate(session, ticket, request.note, now=now, notifier=notifier, actor=request.actor)
    else:
        if request.action == Action.assign and request.technician_id is not None:
            technician = get_required(session, Technician, request.technician_id, "technician")
            contractors.check_assignee(session, ticket.asset_id, technician)
        service.apply(session, ticket, request, now, notifier)
    try:
        session.flush()
    except StaleDataError:
        raise ConcurrentUpdate(ticket_id) from None
    return ticket

"""Alarms become work orders without a human in the loop.

An alarm at or above the policy's severity opens a ticket of type alarm (an anomaly finding, a
predictive inspection), priority from its severity, its SLA clock running from the raise. There is
at most one open ticket per (asset, fault): a repeated or related alarm is attached to it instead.
Alarms that are suppressed or shelved open nothing until that ends; `open_tickets(ids=None)`
sweeps for active alarms still owed a ticket (after suppression ended, or a failed attempt)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from maintenance.alarms.lifecycle import AlarmPolicy
from maintenance.alarms.models import Alarm
from maintenance.alarms.suppression import ANOMALY_PREFIX
from maintenance.alarms.transitions import ACTIVE_STATES, AlarmTransition, transition_of
from maintenance.errors import InvalidInput
from maintenance.flows import intake
from maintenance.language import phrases
from maintenance.language.catalogue import gettext_
from maintenance.notifications.notifier import Notifier
from maintenance.storage.db import get_required
from maintenance.vocabulary import OPEN_STATES, Channel, Priority, TicketType
from maintenance.work_orders.models import Ticket, TicketEvent
from maintenance.work_orders.schemas import TicketCreate
from rules.scoring import drivers_of

# A predictive inspection's title as stored; pages say it in the reader's language
# (`said_title`).
PREDICTIVE_TITLE = "Predictive inspection: {where} behaves unlike its normal history"
_PREDICTIVE = re.compile(r"Predictive inspection: (?P<where>.+) behaves unlike its normal history")


def said_title(title: str) -> str:
    """An alarm ticket's title in the current language (a predictive inspection's); any other
    title as it was written."""
    found = _PREDICTIVE.fullmatch(title)
    if found is None:
        return title
    said = gettext_("Predictive inspection: %(where)s behaves unlike its normal history")
    return said % {"where": found["where"]}


PRIORITY = {
    "critical": Priority.emergency,
    "major": Priority.urgent,
    "minor": Priority.normal,
    "warning": Priority.low,
}


def is_anomaly(rule_id: str) -> bool:
    return rule_id.startswith(ANOMALY_PREFIX)


def owed_a_ticket(alarm: Alarm, policy: AlarmPolicy) -> bool:
    return (
        alarm.state in ACTIVE_STATES
        and alarm.asset_id is not None  # a work order is about equipment in the ledger
        and alarm.suppressed_by is None
        and alarm.shelved_until is None
        and (is_anomaly(alarm.rule_id) or policy.opens_ticket(alarm.severity))
    )


def open_tickets(
    session: Session,
    alarm_ids: Iterable[int] | None,
    *,
    policy: AlarmPolicy,
    notifier: Notifier,
    now: datetime,
) -> list[AlarmTransition]:
    query = select(Alarm).where(Alarm.state.in_(ACTIVE_STATES))
    if alarm_ids is None:  # the sweep: only alarms that can be owed one (see owed_a_ticket)
        query = query.where(
            Alarm.ticket_id.is_(None),
            Alarm.asset_id.is_not(None),
            Alarm.suppressed_by.is_(None),
            Alarm.shelved_until.is_(None),
        )
    else:
        query = query.where(Alarm.id.in_(list(alarm_ids)))
    alarms = [a for a in session.scalars(query.order_by(Alarm.id)) if owed_a_ticket(a, policy)]
    out: list[AlarmTransition] = []
    to_create: list[tuple[Alarm, TicketCreate]] = []
    for alarm in alarms:
        ticket_id = _open_ticket_for(session, alarm)
        if ticket_id is not None:
            if alarm.ticket_id != ticket_id or alarm_ids is not None:
                alarm.ticket_id = ticket_id
                session.add(
                    TicketEvent(
                        ticket_id=ticket_id,
                        at=now,
                        actor="alarms",
                        action="alarm_attached",
                        changes={},
                        note=phrases.ALARM_ATTACHED.write(
                            alarm=alarm.id,
                            rule=alarm.rule_id,
                            device=alarm.device_id,
                            raised=alarm.raised_at.isoformat() if alarm.raised_at else "?",
                        ),
                    )
                )
                out.append(_ticket_transition(alarm, now, "attached to the open ticket"))
            continue
        if any(a.asset_id == alarm.asset_id and a.rule_id == alarm.rule_id for a, _ in to_create):
            continue  # the same fault on another device of the asset: its ticket comes below
        to_create.append((alarm, _ticket_for(alarm)))
    if to_create:
        tickets = intake.create_many(
            session, [data for _, data in to_create], actor="alarms", now=now, notifier=notifier
        )
        for (alarm, _), ticket in zip(to_create, tickets, strict=True):
            alarm.ticket_id = ticket.id
            out.append(_ticket_transition(alarm, now, "opened a ticket"))
        # Devices of the same asset raising the same fault in this batch share the ticket.
        for alarm in alarms:
            if alarm.ticket_id is None:
                alarm.ticket_id = _open_ticket_for(session, alarm)
    return out


def open_by_hand(
    session: Session, alarm_id: int, *, by: str, now: datetime, notifier: Notifier
) -> tuple[int, AlarmTransition | None]:
    """An engineer opens a work order for an alarm below the automatic threshold (or one on
    equipment missing from the ledger). An alarm whose fault already has an open ticket gets
    that ticket, not a second one."""
    alarm = get_required(session, Alarm, alarm_id, "alarm")
    existing = _open_ticket_for(session, alarm) if alarm.asset_id is not None else None
    if existing is None and alarm.ticket_id is not None:
        existing = session.scalar(
            select(Ticket.id).where(Ticket.id == alarm.ticket_id, Ticket.state.in_(OPEN_STATES))
        )
    if existing is not None:
        return existing, None
    if alarm.site_id is None:
        raise InvalidInput("alarm_id", f"site {alarm.site!r} is not in the ledger; add it first")
    data = _ticket_for(alarm)
    ticket = intake.create_many(session, [data], actor=by, now=now, notifier=notifier)[0]
    alarm.ticket_id = ticket.id
    return ticket.id, transition_of(
        alarm, "ticket", alarm.state, now, by, note="opened a ticket by hand"
    )


def _open_ticket_for(session: Session, alarm: Alarm) -> int | None:
    """The open ticket of this fault: this alarm's own, or one opened by the same rule on
    another device of the same asset."""
    return session.scalar(
        select(Ticket.id)
        .join(Alarm, Alarm.ticket_id == Ticket.id)
        .where(
            Alarm.asset_id == alarm.asset_id,
            Alarm.rule_id == alarm.rule_id,
            Ticket.state.in_(OPEN_STATES),
        )
        .order_by(Ticket.id)
        .limit(1)
    )


def _ticket_for(alarm: Alarm) -> TicketCreate:
    assert alarm.site_id is not None and alarm.raised_at is not None
    values = ", ".join(f"{k}={v}" for k, v in sorted((alarm.values or {}).items()))
    where = f"{alarm.device_id} ({alarm.system})"
    if is_anomaly(alarm.rule_id):
        kind, priority = TicketType.inspection, Priority.normal
        title = PREDICTIVE_TITLE.format(where=where)
    else:
        kind, priority = TicketType.alarm, PRIORITY.get(alarm.severity, Priority.normal)
        title = f"{alarm.message or alarm.rule_id}: {where}"
    description = phrases.ALARM_DESCRIPTION.write(
        alarm=alarm.id,
        rule=alarm.rule_id,
        severity=alarm.severity,
        raised=alarm.raised_at.isoformat(),
        values=values or "-",
    )
    if is_anomaly(alarm.rule_id):
        description = f"{anomaly_explanation(alarm.values or {})}\n{description}"
    return TicketCreate(
        site_id=alarm.site_id,
        type=kind,
        channel=Channel.alarm,
        priority=priority,
        title=title[:200],
        description=description,
        requester="alarms",
        asset_id=alarm.asset_id,
        source_ref=f"alarm:{alarm.id}:{alarm.occurrences}",
        opened_at=alarm.raised_at,
        fault=alarm.rule_id[:80],
    )


def anomaly_explanation(values: dict[str, object]) -> str:
    """Why an anomaly finding was raised, for the technician: the model, and each metric that
    drove it with the value seen and the range the model learned as normal."""
    drivers = drivers_of(values)
    parts = [
        phrases.DRIVER.write(
            metric=name,
            value=values.get(name),
            normal=values.get(f"{name} normal", "?"),
            share=f"{float(str(values.get(f'{name} share', 0))):.0%}",
        )
        for name in drivers
    ]
    return phrases.ANOMALY_EXPLANATION.write(
        model=values.get("model", "?"),
        score=values.get("score", "?"),
        drivers="; ".join(parts) or "-",
    )


def _ticket_transition(alarm: Alarm, now: datetime, note: str) -> AlarmTransition:
    return transition_of(alarm, "ticket", alarm.state, now, "alarms", note=note)


def ticket_alarms(session: Session, ticket_id: int) -> list[Alarm]:
    """The alarms that opened or joined a ticket, with whether they returned to normal."""
    return list(
        session.scalars(select(Alarm).where(Alarm.ticket_id == ticket_id).order_by(Alarm.id))
    )

"""The words of the work-order process (../shared/SERVICE_STANDARDS.md), as enumerations."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

# Row ids as the database stores them (PostgreSQL INTEGER): a larger number in a request is a
# 422 on its field, not a database error.
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class System(StrEnum):
    elevator = "elevator"
    water = "water"
    power = "power"
    fire = "fire"
    camera = "camera"


class TicketType(StrEnum):
    repair = "repair"
    complaint = "complaint"
    suggestion = "suggestion"
    inspection = "inspection"
    alarm = "alarm"


# A ticket an anomaly model's finding opened (its fault is the anomaly rule, rules.scoring's
# ANOMALY_RULE): a predictive inspection, whose resolution says whether it was a real fault.
PREDICTIVE_FAULT_PREFIX = "anomaly:"


class Finding(StrEnum):
    """What a predictive inspection found: the technician's verdict on the model's finding."""

    confirmed = "confirmed"  # a real fault: its window stays out of the model's training
    no_fault_found = "no_fault_found"  # a false finding: its window is normal from now on


class Channel(StrEnum):
    hotline = "hotline"
    app = "app"
    wechat = "wechat"
    front_desk = "front_desk"
    api = "api"
    alarm = "alarm"
    schedule = "schedule"


class Priority(StrEnum):
    emergency = "emergency"
    urgent = "urgent"
    normal = "normal"
    low = "low"

    @property
    def rank(self) -> int:
        """0 = most urgent; emergencies are dispatched first."""
        return list(Priority).index(self)

    def raised(self) -> Priority:
        return list(Priority)[max(self.rank - 1, 0)]


class TicketState(StrEnum):
    new = "new"
    assigned = "assigned"
    accepted = "accepted"
    in_progress = "in_progress"
    resolved = "resolved"
    verified = "verified"
    closed = "closed"
    reopened = "reopened"
    cancelled = "cancelled"


OPEN_STATES = frozenset(
    {
        TicketState.new,
        TicketState.assigned,
        TicketState.accepted,
        TicketState.in_progress,
        TicketState.reopened,
    }
)


class Criticality(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

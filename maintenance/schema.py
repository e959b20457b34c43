"""Every table, imported in one place so that the metadata (and Alembic) sees them all."""

from maintenance.accounts.models import ApiKey, Contractor, LoginSession, SecurityEvent, User
from maintenance.alarms.models import (
    Alarm,
    AlarmFlood,
    AlarmTransitionRecord,
    FindingReview,
    MaintenanceWindow,
)
from maintenance.assets.models import Asset, AssetDevice, Location, Site
from maintenance.dispatch.models import Shift, Team, Technician
from maintenance.notifications.models import NotificationDelivery
from maintenance.patrols.models import PatrolCheckIn, PatrolPoint, PatrolRound, PatrolRun
from maintenance.plans.models import InspectionPlan, PlanOccurrence
from maintenance.sla.models import SlaBreach, SlaPolicyOverride
from maintenance.storage.db import Base
from maintenance.work_orders.models import Attachment, Comment, Ticket, TicketEvent

__all__ = [
    "ApiKey",
    "Contractor",
    "LoginSession",
    "SecurityEvent",
    "User",
    "Alarm",
    "AlarmTransitionRecord",
    "AlarmFlood",
    "FindingReview",
    "MaintenanceWindow",
    "NotificationDelivery",
    "Asset",
    "InspectionPlan",
    "PlanOccurrence",
    "PatrolCheckIn",
    "PatrolPoint",
    "PatrolRound",
    "PatrolRun",
    "AssetDevice",
    "Attachment",
    "Base",
    "Comment",
    "Location",
    "Shift",
    "Site",
    "SlaBreach",
    "SlaPolicyOverride",
    "Team",
    "Technician",
    "Ticket",
    "TicketEvent",
]

"""The plans the product ships with: a quarterly comprehensive inspection of every elevator,
water, power and fire asset, and a monthly check of every camera (service standards)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from maintenance.language.catalogue import N_, gettext_
from maintenance.plans.checklists import CHECKLISTS
from maintenance.plans.models import InspectionPlan
from maintenance.vocabulary import System

# The stored name is the plan's identity (English, as older installations have it); a reader
# sees it in their language through the catalogue (`shipped_title`).
SHIPPED = (
    (N_("Quarterly comprehensive inspection: elevator"), System.elevator, "quarters"),
    (N_("Quarterly comprehensive inspection: water"), System.water, "quarters"),
    (N_("Quarterly comprehensive inspection: power"), System.power, "quarters"),
    (N_("Quarterly comprehensive inspection: fire"), System.fire, "quarters"),
    (N_("Monthly check: camera"), System.camera, "months"),
)


def shipped_title(title: str) -> str:
    """A shipped plan's name, or a ticket title that begins with one (its inspections'), in the
    current language; any other title as it was written."""
    for name, _, _ in SHIPPED:
        if title.startswith(name):
            return gettext_(name) + title[len(name) :]
    return title


def ensure_default_plans(session: Session, *, starts_on: date, now: datetime) -> int:
    """Create the shipped plans that do not exist yet (by name); returns how many were made."""
    names = set(session.scalars(select(InspectionPlan.name)))
    made = 0
    for name, system, unit in SHIPPED:
        if name in names:
            continue
        session.add(
            InspectionPlan(
                name=name,
                system=system,
                every=1,
                unit=unit,
                starts_on=starts_on,
                checklist=CHECKLISTS[system.value],
                created_at=now,
                lead_days=7,
                paused=False,
            )
        )
        made += 1
    session.flush()
    return made

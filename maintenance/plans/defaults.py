"""The plans the product ships with: a quarterly comprehensive inspection of every elevator,
water, power and fire asset, and a monthly check of every camera (service standards)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from maintenance.plans.checklists import CHECKLISTS
from maintenance.plans.models import InspectionPlan
from maintenance.vocabulary import System

SHIPPED = (
    *(
        (f"Quarterly comprehensive inspection: {s.value}", s, "quarters")
        for s in (System.elevator, System.water, System.power, System.fire)
    ),
    ("Monthly check: camera", System.camera, "months"),
)


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

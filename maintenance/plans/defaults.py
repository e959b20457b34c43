"""The programme library the product ships: each programme a plan with its cadence, checklist
and the standard it comes from (docs/maintenance-plans.md: the sources, and what could not be
confirmed). The service standards' quarterly comprehensive inspection and monthly camera check
are the first five, as older installations have them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from maintenance.language.catalogue import N_, gettext_
from maintenance.plans import programme_items as lists
from maintenance.plans.checklists import CHECKLISTS
from maintenance.plans.models import InspectionPlan
from maintenance.vocabulary import System

SERVICE_STANDARDS = {"id": "SERVICE_STANDARDS", "clause": "Service-level targets"}
TSG_T5002 = "TSG T5002-2017"
GB_25201 = "GB 25201-2010"
# An elevator's maintenance tiers: the half-month slots (24 a year); a quarterly, semi-annual or
# annual tier replaces the half-monthly one on its slots (docs/maintenance-plans.md).
ELEVATOR = "elevator_maintenance"


@dataclass(frozen=True, slots=True)
class Programme:
    name: str  # the identity (English, stored); said in the reader's language by the catalogue
    system: System
    every: int
    unit: str
    checklist: list[dict[str, Any]]
    standard: dict[str, str]
    programme: str | None = None
    asset_type: str | None = None
    regulated: bool = True
    anchoring: str = "fixed"
    early_days: int = 0
    late_days: int = 0
    lead_days: int = 7
    due_from_ledger: bool = False
    site_risk_class: str | None = None


def _quarterly(name: str, system: System) -> Programme:
    return Programme(
        name, system, 1, "quarters", CHECKLISTS[system.value], SERVICE_STANDARDS, regulated=False
    )


def _tsg(name: str, every: int, clause: str, rows: lists.Rows, lead: int) -> Programme:
    return Programme(
        name,
        System.elevator,
        every,
        "half_months",
        lists.items(rows),
        {"id": TSG_T5002, "clause": clause, "title": "电梯维护保养规则"},
        programme=ELEVATOR,
        early_days=3,
        late_days=3,
        lead_days=lead,
    )


SHIPPED: tuple[Programme, ...] = (
    _quarterly(N_("Quarterly comprehensive inspection: elevator"), System.elevator),
    _quarterly(N_("Quarterly comprehensive inspection: water"), System.water),
    _quarterly(N_("Quarterly comprehensive inspection: power"), System.power),
    _quarterly(N_("Quarterly comprehensive inspection: fire"), System.fire),
    Programme(
        N_("Monthly check: camera"),
        System.camera,
        1,
        "months",
        CHECKLISTS["camera"],
        {"id": "SERVICE_STANDARDS", "clause": "Service-level targets"},
        regulated=False,
    ),
    _tsg(
        N_("Elevator maintenance: half-monthly"), 1, "Annex A, A-1", lists.ELEVATOR_HALF_MONTHLY, 5
    ),
    _tsg(N_("Elevator maintenance: quarterly"), 6, "Annex A, A-2", lists.ELEVATOR_QUARTERLY, 7),
    _tsg(
        N_("Elevator maintenance: semi-annual"), 12, "Annex A, A-3", lists.ELEVATOR_SEMI_ANNUAL, 7
    ),
    _tsg(N_("Elevator maintenance: annual"), 24, "Annex A, A-4", lists.ELEVATOR_ANNUAL, 7),
    Programme(
        N_("Elevator periodic inspection by the authority"),
        System.elevator,
        1,
        "years",
        lists.items(lists.ELEVATOR_AUTHORITY),
        {
            "id": "TSG T7001-2009",
            "clause": "periodic inspection; TSG 08-2017 2.10 (apply 1 month before expiry)",
            "title": "电梯监督检验和定期检验规则",
        },
        due_from_ledger=True,
        lead_days=30,
    ),
    Programme(
        N_("Fire control room: daily checks"),
        System.fire,
        1,
        "days",
        lists.items(lists.FIRE_CONTROL_ROOM_DAILY),
        {
            "id": GB_25201,
            "clause": "4 (control room duty), Annex A",
            "title": "建筑消防设施的维护管理",
        },
        programme="fire_control_room",
        asset_type="fire_control_room",
        lead_days=0,
    ),
    Programme(
        N_("Fire facilities: monthly inspection"),
        System.fire,
        1,
        "months",
        lists.items(lists.FIRE_MONTHLY),
        {"id": GB_25201, "clause": "5 (inspection), Annex B", "title": "建筑消防设施的维护管理"},
        programme="fire_inspection",
        late_days=3,
    ),
    Programme(
        N_("Fire facilities: annual comprehensive test"),
        System.fire,
        1,
        "years",
        lists.items(lists.FIRE_ANNUAL),
        {
            "id": GB_25201,
            "clause": "6 (testing); Fire Protection Law art. 16",
            "title": "建筑消防设施的维护管理",
        },
        programme="fire_test",
        lead_days=30,
    ),
    Programme(
        N_("Water tank cleaning and disinfection"),
        System.water,
        6,
        "months",
        lists.items(lists.WATER_TANK_CLEANING),
        {
            "id": "CJJ 140-2010",
            "clause": "10 (operation and maintenance)",
            "title": "二次供水工程技术规程",
        },
        programme="water_tank_cleaning",
        asset_type="water_tank",
        anchoring="floating",
        lead_days=14,
    ),
    Programme(
        N_("Water quality test"),
        System.water,
        1,
        "quarters",
        lists.items(lists.WATER_QUALITY),
        {
            "id": "CJJ 140-2010",
            "clause": "10 (operation and maintenance); local rules",
            "title": "二次供水工程技术规程",
        },
        programme="water_quality",
        asset_type="water_tank",
        late_days=7,
    ),
    Programme(
        N_("Lightning protection test: yearly"),
        System.power,
        1,
        "years",
        lists.items(lists.LIGHTNING),
        {
            "id": "GB/T 21431-2015",
            "clause": "detection period; CMA order 24 art. 19",
            "title": "建筑物防雷装置检测技术规范",
        },
        programme="lightning_protection",
        asset_type="lightning_protection",
        anchoring="floating",
        site_risk_class="normal",
        lead_days=30,
    ),
    Programme(
        N_("Lightning protection test: half-yearly"),
        System.power,
        6,
        "months",
        lists.items(lists.LIGHTNING),
        {
            "id": "GB/T 21431-2015",
            "clause": "detection period (explosion and fire hazard places); CMA order 24 art. 19",
            "title": "建筑物防雷装置检测技术规范",
        },
        programme="lightning_protection",
        asset_type="lightning_protection",
        anchoring="floating",
        site_risk_class="hazardous",
        lead_days=30,
    ),
)
BY_NAME = {p.name: p for p in SHIPPED}


def shipped_title(title: str) -> str:
    """A shipped plan's name, or a ticket title that begins with one (its inspections'), in the
    current language; any other title as it was written."""
    for programme in sorted(SHIPPED, key=lambda p: -len(p.name)):
        if title.startswith(programme.name):
            return gettext_(programme.name) + title[len(programme.name) :]
    return title


def standard_name(plan: InspectionPlan) -> str:
    """The standard a plan comes from, as one line: id · clause · title ("" if none)."""
    if not plan.standard:
        return ""
    parts = [plan.standard.get("id"), plan.standard.get("clause"), plan.standard.get("title")]
    return " · ".join(str(p) for p in parts if p)


def _columns(p: Programme) -> dict[str, Any]:
    return {
        "system": p.system,
        "asset_type": p.asset_type,
        "every": p.every,
        "unit": p.unit,
        "checklist": p.checklist,
        "programme": p.programme,
        "standard": p.standard,
        "regulated": p.regulated,
        "anchoring": p.anchoring,
        "early_days": p.early_days,
        "late_days": p.late_days,
        "lead_days": p.lead_days,
        "due_from_ledger": p.due_from_ledger,
        "site_risk_class": p.site_risk_class,
    }


def ensure_default_plans(session: Session, *, starts_on: date, now: datetime) -> int:
    """Create the shipped programmes that do not exist yet (by name), and give the ones an older
    installation has their standard; returns how many were made."""
    existing = {
        p.name: p
        for p in session.scalars(select(InspectionPlan).where(InspectionPlan.site_id.is_(None)))
    }
    made = 0
    for programme in SHIPPED:
        plan = existing.get(programme.name)
        if plan is not None:
            if plan.standard is None:
                plan.standard = programme.standard
            continue
        session.add(
            InspectionPlan(
                name=programme.name,
                starts_on=starts_on,
                created_at=now,
                paused=False,
                **_columns(programme),
            )
        )
        made += 1
    session.flush()
    return made

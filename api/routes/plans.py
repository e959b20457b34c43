"""Inspection plans (create, change, pause, preview), checklist results and PM compliance."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, BaseModel

from api.auth import OFFICE, Principal, PrincipalDep, access, audit_name, refuse
from api.deps import DatabaseDep, NotifierDep, NowDep
from api.language import request_language
from maintenance.errors import InvalidInput, NotFound
from maintenance.language import catalogue
from maintenance.plans import programmes, service
from maintenance.plans.results import ChecklistResults, record_results
from maintenance.plans.service import PlanCreate, PlanRead
from maintenance.vocabulary import Id
from maintenance.work_orders import permissions, queries
from maintenance.work_orders.schemas import TicketRead

OFFICE_ONLY = [Depends(access(OFFICE, OFFICE))]
router = APIRouter(tags=["preventive maintenance"])


class PreviewRead(BaseModel):
    asset_id: Id
    day: date
    due_at: datetime


class ComplianceRead(BaseModel):
    site_id: Id
    system: str
    due: int
    on_time: int
    late: int
    open_overdue: int
    early: int
    share_on_time: float | None


@router.post("/plans", status_code=201, dependencies=OFFICE_ONLY)
def post_plan(data: PlanCreate, db: DatabaseDep, now: NowDep, me: PrincipalDep) -> PlanRead:
    with db.transaction() as s:
        return PlanRead.model_validate(service.save_plan(s, data, now=now, scope=me.scope))


@router.get("/plans")
def list_plans(db: DatabaseDep, me: PrincipalDep) -> list[PlanRead]:
    """The plans of the caller's scope."""
    with db.transaction() as s:
        return [PlanRead.model_validate(p) for p in service.all_plans(s, scope=me.scope)]


@router.get("/plans/{plan_id}")
def read_plan(plan_id: Id, db: DatabaseDep, me: PrincipalDep) -> PlanRead:
    with db.transaction() as s:
        return PlanRead.model_validate(service.visible_plan(s, plan_id, scope=me.scope))


@router.put("/plans/{plan_id}", dependencies=OFFICE_ONLY)
def put_plan(
    plan_id: Id, data: PlanCreate, db: DatabaseDep, now: NowDep, me: PrincipalDep
) -> PlanRead:
    """Change a plan (`paused: true` pauses it). Tickets already generated stay as they are."""
    with db.transaction() as s:
        plan = service.visible_plan(s, plan_id, scope=me.scope)
        changed = service.save_plan(s, data, now=now, scope=me.scope, plan=plan)
        return PlanRead.model_validate(changed)


@router.get("/plans/{plan_id}/preview")
def preview(
    plan_id: Id,
    db: DatabaseDep,
    now: NowDep,
    me: PrincipalDep,
    days: Annotated[int, Query(ge=1, le=731)] = 365,
) -> list[PreviewRead]:
    """The occurrences the next `days` (default 12 months) would generate, for the assets of
    the caller's scope."""
    with db.transaction() as s:
        plan = service.visible_plan(s, plan_id, scope=me.scope)
        return [
            PreviewRead(asset_id=i.asset_id, day=i.day, due_at=i.due_at)
            for i in service.preview(s, plan, today=now.date(), days=days, scope=me.scope)
        ]


@router.post("/tickets/{ticket_id}/checklist", status_code=201)
def checklist(
    ticket_id: Id,
    data: ChecklistResults,
    request: Request,
    db: DatabaseDep,
    now: NowDep,
    notifier: NotifierDep,
    principal: PrincipalDep,
) -> list[TicketRead]:
    """Records an inspection's results; answers the repair tickets opened for failed items.
    A technician records results only on an inspection assigned to them."""
    data = data.model_copy(update={"actor": audit_name(principal, data.actor)})
    with db.transaction() as s:
        ticket = queries.visible(s, ticket_id, principal)
        why = permissions.why_not_record_checklist(principal, ticket)
        if why is not None:
            raise refuse(request, principal, why)
        return [
            TicketRead.model_validate(t)
            for t in record_results(s, ticket_id, data, now=now, notifier=notifier)
        ]


@router.get("/reports/pm-compliance")
def pm_compliance(
    db: DatabaseDep,
    now: NowDep,
    me: PrincipalDep,
    start: AwareDatetime,
    end: AwareDatetime,
    site_id: Id | None = None,
) -> list[ComplianceRead]:
    """Share of inspections due in [start, end) completed by their due time, per site and
    system."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("start", "start and end need a time zone offset")
    with db.transaction() as s:
        return [
            ComplianceRead(
                site_id=c.site_id,
                system=c.system,
                due=c.due,
                on_time=c.on_time,
                late=c.late,
                open_overdue=c.open_overdue,
                early=c.early,
                share_on_time=c.share_on_time,
            )
            for c in service.compliance(
                s, start=start, end=end, now=now, scope=me.scope, site_id=site_id
            )
        ]


def _in_scope(me: Principal, site_id: int) -> None:
    """A site outside the caller's scope, or any site for a contractor's person (programmes
    are a site's, not a company's): not there."""
    if not me.scope.admits_site(site_id) or me.role == "contractor":
        raise NotFound("site", site_id)


class SiteProgrammeRead(BaseModel):
    plan_id: Id
    name: str
    standard: str
    regulated: bool
    enabled: bool
    own_plan_id: Id | None
    every: int
    unit: str
    early_days: int
    late_days: int
    anchoring: str


@router.get("/sites/{site_id}/programmes")
def site_programmes(
    site_id: Id, request: Request, me: PrincipalDep, db: DatabaseDep
) -> list[SiteProgrammeRead]:
    """The programme library as it applies to a site: each shipped programme enabled or not,
    and the site's own version of it if the site changed it."""
    _in_scope(me, site_id)
    with catalogue.using(request_language(request, me.language)), db.transaction() as s:
        return [
            SiteProgrammeRead.model_validate(p, from_attributes=True)
            for p in programmes.site_programmes(s, site_id)
        ]


@router.put("/sites/{site_id}/programmes/{plan_id}", dependencies=OFFICE_ONLY)
def put_site_programme(
    site_id: Id,
    plan_id: Id,
    data: programmes.ProgrammeChange,
    db: DatabaseDep,
    now: NowDep,
    me: PrincipalDep,
) -> PlanRead:
    """Enable, disable (`enabled: false`) or edit a shipped programme for one site: the site
    gets its own version from today (what the shipped one already generated stays)."""
    _in_scope(me, site_id)
    with db.transaction() as s:
        return PlanRead.model_validate(
            programmes.change_for_site(s, site_id, plan_id, data, now=now)
        )

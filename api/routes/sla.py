"""SLA policies: a site's (or every site's) own targets per ticket type and/or priority."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select

from api.auth import PrincipalDep
from api.deps import DatabaseDep
from maintenance.assets.service import visible_site
from maintenance.errors import InvalidInput
from maintenance.sla.models import SlaPolicyOverride
from maintenance.vocabulary import Id, Priority, TicketType

router = APIRouter(tags=["SLA"])


class SlaPolicyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "site_id": 1,
                    "ticket_type": "repair",
                    "priority": None,
                    "response_minutes": 120,
                    "resolution_minutes": 1440,
                }
            ]
        },
    )

    site_id: Id | None = Field(None, description="unset: every site")
    ticket_type: TicketType | None = Field(None, description="unset: every type")
    priority: Priority | None = Field(None, description="unset: every priority")
    response_minutes: int = Field(ge=1, le=60 * 24 * 90)
    resolution_minutes: int | None = Field(None, ge=1, le=60 * 24 * 365)
    progress_minutes: int | None = Field(None, ge=1, le=60 * 24 * 90)


class SlaPolicyRead(SlaPolicyCreate):
    model_config = ConfigDict(from_attributes=True)
    id: int


@router.put("/sla-policies", status_code=200)
def put_policy(data: SlaPolicyCreate, db: DatabaseDep, principal: PrincipalDep) -> SlaPolicyRead:
    """Creates or replaces the policy for (site, type, priority). It applies to tickets created
    from now on; due times of existing tickets and recorded breaches stay as they are. A
    site-scoped caller sets their sites' policies only (every site's: 422 on `site_id`)."""
    with db.transaction() as s:
        if data.site_id is not None:
            visible_site(s, data.site_id, scope=principal.scope)
        elif not principal.scope.everything:
            raise InvalidInput("site_id", "name one of your sites")
        if data.ticket_type is None and data.priority is None and data.site_id is None:
            raise InvalidInput("ticket_type", "name a type, a priority or a site")
        policy = s.scalar(
            select(SlaPolicyOverride).where(
                SlaPolicyOverride.site_id.is_(None)
                if data.site_id is None
                else SlaPolicyOverride.site_id == data.site_id,
                SlaPolicyOverride.ticket_type.is_(None)
                if data.ticket_type is None
                else SlaPolicyOverride.ticket_type == data.ticket_type,
                SlaPolicyOverride.priority.is_(None)
                if data.priority is None
                else SlaPolicyOverride.priority == data.priority,
            )
        )
        if policy is None:
            policy = SlaPolicyOverride(**data.model_dump())
            s.add(policy)
        else:
            for name, value in data.model_dump().items():
                setattr(policy, name, value)
        s.flush()
        return SlaPolicyRead.model_validate(policy)


@router.get("/sla-policies")
def list_policies(
    db: DatabaseDep, principal: PrincipalDep, site_id: Id | None = None
) -> list[SlaPolicyRead]:
    """Every site's policies and those of the caller's sites."""
    with db.transaction() as s:
        q = (
            select(SlaPolicyOverride)
            .where(
                or_(
                    SlaPolicyOverride.site_id.is_(None),
                    principal.scope.where_site(SlaPolicyOverride.site_id),
                )
            )
            .order_by(SlaPolicyOverride.id)
        )
        if site_id is not None:
            q = q.where(SlaPolicyOverride.site_id == site_id)
        return [SlaPolicyRead.model_validate(p) for p in s.scalars(q)]

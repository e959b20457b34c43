"""The notification delivery log: what was sent where, what is still being retried, what failed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from api.auth import PrincipalDep
from api.deps import DatabaseDep
from ingest.redact import mask_text
from maintenance.reports.deliveries import deliveries
from maintenance.vocabulary import Id

router = APIRouter(tags=["notifications"])


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    channel: str
    recipient: str
    ticket_id: Id | None
    alarm_id: Id | None
    message: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None


@router.get("/notifications")
def list_deliveries(
    db: DatabaseDep,
    principal: PrincipalDep,
    status: Annotated[str | None, Query(pattern="^(pending|sent|failed)$")] = None,
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryRead]:
    """Newest first; about the tickets and alarms of the caller's scope."""
    with db.read() as s:
        rows = deliveries(s, scope=principal.scope, status=status, kind=kind, limit=limit)
        return [_shown(DeliveryRead.model_validate(r)) for r in rows]


def _shown(delivery: DeliveryRead) -> DeliveryRead:
    """Rows written before channel names were masked still hold the URL: masked here too."""
    delivery.channel = mask_text(delivery.channel)
    delivery.last_error = mask_text(delivery.last_error) if delivery.last_error else None
    return delivery

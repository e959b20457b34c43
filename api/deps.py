"""What routes need, as typed dependencies: `def route(db: DatabaseDep, now: NowDep)`.

They are `async` although they only read app state: FastAPI runs a sync dependency in the thread
pool, a hop that costs more than these lookups (and than the ticket board's query)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from maintenance.alarms.monitor import AlarmMonitor
from maintenance.flows.group_commit import TicketIntake
from maintenance.notifications.notifier import Notifier
from maintenance.storage.db import Database, utcnow
from maintenance.work_orders.attachments import AttachmentStore


async def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def _now(request: Request) -> datetime:
    clock: Callable[[], datetime] = getattr(request.app.state, "clock", utcnow)
    return clock()


async def _notifier(request: Request) -> Notifier:
    notifier: Notifier = request.app.state.notifier
    return notifier


async def _attachments(request: Request) -> AttachmentStore:
    store: AttachmentStore = request.app.state.attachments
    return store


async def _intake(request: Request) -> TicketIntake:
    intake: TicketIntake = request.app.state.intake
    return intake


async def _alarms(request: Request) -> AlarmMonitor:
    monitor: AlarmMonitor = request.app.state.alarms
    return monitor


# Routes open `with db.transaction() as session:` themselves, so the commit (and any error it
# raises) happens before the response is sent, whatever FastAPI does with dependency teardown.
DatabaseDep = Annotated[Database, Depends(_database)]
NowDep = Annotated[datetime, Depends(_now)]
NotifierDep = Annotated[Notifier, Depends(_notifier)]
AttachmentsDep = Annotated[AttachmentStore, Depends(_attachments)]
AlarmsDep = Annotated[AlarmMonitor, Depends(_alarms)]
IntakeDep = Annotated[TicketIntake, Depends(_intake)]

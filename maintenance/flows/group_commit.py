"""Group commit for single ticket requests: concurrent callers share one transaction.

Creating a ticket is a handful of statements and a commit, most of it fixed cost per
transaction; `intake.create_many` amortises that over a batch. `TicketIntake.create` lets
independent requests (many intake channels at once) ride the same batch: while one transaction
commits, the requests that arrive queue up, and the next caller to commit takes them all. Each
caller gets its own ticket or its own error: a batch that is refused (one invalid item) is
retried item by item, so one bad request never fails the others."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime

from maintenance.errors import MaintenanceError
from maintenance.flows import intake
from maintenance.notifications.notifier import Notifier
from maintenance.storage.db import Database
from maintenance.work_orders.models import Ticket
from maintenance.work_orders.schemas import TicketCreate


@dataclass(slots=True)
class _Request:
    data: TicketCreate
    actor: str
    now: datetime
    result: Future[Ticket] = field(default_factory=Future)


class TicketIntake:
    def __init__(
        self,
        database: Database,
        notifier: Notifier,
        *,
        max_batch: int = 100,
    ) -> None:
        self.database = database
        self.notifier = notifier
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._committing = threading.Lock()
        self._pending: list[_Request] = []

    def create(self, data: TicketCreate, *, actor: str, now: datetime) -> Ticket:
        request = _Request(data, actor, now)
        with self._lock:
            self._pending.append(request)
        # One transaction at a time: whoever holds the commit takes everything queued meanwhile.
        # Alone, a request is a batch of one (no waiting); under load, batches form by themselves.
        with self._committing:
            while not request.result.done():
                with self._lock:
                    batch = self._pending[: self.max_batch]
                    self._pending = self._pending[self.max_batch :]
                self._commit(batch)
        return request.result.result()

    def _commit(self, batch: list[_Request]) -> None:
        by_actor: dict[str, list[_Request]] = {}
        for request in batch:
            by_actor.setdefault(request.actor, []).append(request)
        for actor, requests in by_actor.items():
            now = max(r.now for r in requests)
            try:
                with self.database.transaction() as session:
                    tickets = intake.create_many(
                        session,
                        [r.data for r in requests],
                        actor=actor,
                        now=now,
                        notifier=self.notifier,
                    )
            except MaintenanceError:
                # Someone's request was refused: find whose; the others still go in.
                for request in requests:
                    self._one_by_one(request, now, actor)
                continue
            except BaseException as error:
                for request in requests:
                    request.result.set_exception(error)
                continue
            for request, ticket in zip(requests, tickets, strict=True):
                request.result.set_result(ticket)

    def _one_by_one(self, request: _Request, now: datetime, actor: str) -> None:
        """One request on its own: its ticket, or its own error (with its own field path)."""
        try:
            with self.database.transaction() as session:
                ticket = intake.create(
                    session, request.data, actor=actor, now=now, notifier=self.notifier
                )
        except BaseException as error:
            request.result.set_exception(error)
            return
        request.result.set_result(ticket)

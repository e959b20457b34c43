"""Periodic maintenance jobs on APScheduler: the SLA breach watch (more come with schedules).

Each run owns its transaction: it commits whole or rolls back and logs, and the next run retries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler

from maintenance.db import Database
from maintenance.notify import Notifier
from maintenance.sla import watch

log = logging.getLogger(__name__)


class MaintenanceScheduler:
    def __init__(
        self,
        database: Database,
        notifier: Notifier,
        clock: Callable[[], datetime],
        sla_interval_s: float,
    ) -> None:
        self._database, self._notifier, self._clock = database, notifier, clock
        self._scheduler = BackgroundScheduler(timezone="UTC")
        self._scheduler.add_job(
            self.check_sla,
            "interval",
            seconds=sla_interval_s,
            id="sla-watch",
            max_instances=1,
            coalesce=True,
        )

    def start(self) -> None:
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def check_sla(self) -> watch.WatchResult | None:
        try:
            with self._database.transaction() as session:
                result = watch.check(session, now=self._clock(), notifier=self._notifier)
        except Exception:
            log.exception("SLA watch failed; the next run retries")
            return None
        if result.breaches or result.near_breaches:
            log.info(
                "SLA watch: %d breaches, %d near breaches", result.breaches, result.near_breaches
            )
        return result

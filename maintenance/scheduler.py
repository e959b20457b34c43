"""Periodic maintenance jobs on APScheduler: the SLA breach watch, plan generation and the patrol
watch (runs opened when they start, closed with their missed points when their time is up).

Plan generation is stored in the SQL database (APScheduler's SQLAlchemy job store), so its
schedule survives restarts; duplicates are impossible whatever the scheduler does, because each
occurrence is claimed by its unique key. Each run owns its transaction: it commits whole or rolls
back and logs, and the next run retries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from maintenance.flows import sla_watch as watch
from maintenance.notifications.notifier import Notifier
from maintenance.patrols import schedule as patrols
from maintenance.plans import generation, overdue
from maintenance.plans.defaults import ensure_default_plans
from maintenance.plans.usage import UsageSource
from maintenance.storage.db import Database

log = logging.getLogger(__name__)

# Jobs in the SQL store are saved by reference; they find their scheduler here.
_RUNNING: dict[str, MaintenanceScheduler] = {}


def run_plan_generation(key: str) -> None:
    scheduler = _RUNNING.get(key)
    if scheduler is not None:
        scheduler.generate_plans()


class MaintenanceScheduler:
    def __init__(
        self,
        database: Database,
        notifier: Notifier,
        clock: Callable[[], datetime],
        sla_interval_s: float,
        plan_interval_s: float = 3600.0,
        key: str = "default",
        plans: bool = True,
        usage: Callable[[], UsageSource] | None = None,
        patrol_interval_s: float = 60.0,
    ) -> None:
        self._usage = usage
        self._plans = plans
        self._database, self._notifier, self._clock = database, notifier, clock
        self._key = key
        self._scheduler = BackgroundScheduler(
            timezone="UTC",
            jobstores={
                "default": MemoryJobStore(),
                "sql": SQLAlchemyJobStore(engine=database.engine),
            },
        )
        self._scheduler.add_job(
            self.check_sla,
            "interval",
            seconds=sla_interval_s,
            id="sla-watch",
            max_instances=1,
            coalesce=True,
        )
        self._scheduler.add_job(
            self.watch_patrols,
            "interval",
            seconds=patrol_interval_s,
            id="patrol-watch",
            max_instances=1,
            coalesce=True,
        )
        self._plan_interval_s = plan_interval_s

    def start(self) -> None:
        self._scheduler.start()
        if not self._plans:
            return
        with self._database.transaction() as session:
            made = ensure_default_plans(session, starts_on=self._clock().date(), now=self._clock())
        if made:
            log.info("created %d shipped inspection plans", made)
        _RUNNING[self._key] = self
        # Run once at start (downtime catch-up), then every interval.
        self._scheduler.add_job(
            run_plan_generation,
            "interval",
            args=[self._key],
            seconds=self._plan_interval_s,
            id="plan-generation",
            jobstore="sql",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            next_run_time=self._clock(),
        )

    def every(self, seconds: float, job: Callable[[], object], job_id: str) -> None:
        """Another periodic job of this process (anomaly retraining): one run at a time."""
        self._scheduler.add_job(
            job, "interval", seconds=seconds, id=job_id, max_instances=1, coalesce=True
        )

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        _RUNNING.pop(self._key, None)

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

    def watch_patrols(self) -> patrols.WatchResult | None:
        try:
            with self._database.transaction() as session:
                result = patrols.watch(session, now=self._clock())
        except Exception:
            log.exception("patrol watch failed; the next run retries")
            return None
        if result.closed:
            log.info(
                "patrol watch: %d runs opened, %d closed, %d points missed",
                result.opened,
                result.closed,
                result.points_missed,
            )
        return result

    def generate_plans(self) -> generation.GenerationResult | None:
        try:
            with self._database.transaction() as session:
                result = generation.generate(
                    session,
                    now=self._clock(),
                    notifier=self._notifier,
                    usage=self._usage() if self._usage else None,
                )
                overdue.notify_overdue(session, now=self._clock(), notifier=self._notifier)
        except Exception:
            log.exception("plan generation failed; the next run retries")
            return None
        if result.created:
            log.info(
                "plan generation: %d inspection tickets (%d late)", result.created, result.late
            )
        return result

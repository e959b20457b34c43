"""The FastAPI application over a running Runtime."""

from __future__ import annotations

from fastapi import FastAPI

from api import errors
from api.metrics import IngestMetrics, make_registry
from api.routes import (
    alarms,
    health,
    ledger,
    notifications,
    plans,
    reports,
    sla,
    technicians,
    tickets,
)
from api.runtime import Runtime
from maintenance.alarms.monitor import AlarmMonitor
from maintenance.work_orders.intake import TicketIntake
from rules.engine import RuleEngine


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(title="Facility monitoring", version="0.1.0")
    app.state.runtime = runtime
    app.state.database = runtime.database
    app.state.notifier = runtime.notifier
    app.state.attachments = runtime.attachments
    app.state.satisfaction_reopen_at_or_below = runtime.settings.satisfaction_reopen_at_or_below
    ingest = runtime.ingest
    app.state.metrics_registry = make_registry(
        IngestMetrics(
            ingest.collector.stats, ingest.collector.spool, ingest.subscriber.connected.is_set
        )
    )
    # Without rules in this process, people still acknowledge and shelve through a monitor
    # that evaluates nothing.
    app.state.alarms = runtime.alarms or AlarmMonitor(
        runtime.database,
        RuleEngine([]),
        policy=runtime.settings.alarm_policy(),
        notifier=runtime.notifier,
        listeners=[runtime.alarm_stream],
    )
    app.state.alarm_stream = runtime.alarm_stream
    app.state.intake = TicketIntake(runtime.database, runtime.notifier)
    errors.install(app)
    for module in (
        health,
        ledger,
        technicians,
        tickets,
        sla,
        plans,
        alarms,
        notifications,
        reports,
    ):
        app.include_router(module.router)
    return app

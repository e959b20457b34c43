"""The FastAPI application over a running Runtime."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from api import console, errors
from api.auth import ALL, CONTROL_ROOM, OFFICE, STAFF, ApiKeyCache, LoginLimiter, Tokens, access
from api.metrics import AnomalyBudgetMetrics, IngestMetrics, LedgerMetrics, make_registry
from api.routes import (
    alarms,
    auth,
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
    devices = runtime.alarms.ledger if runtime.alarms else None
    app.state.metrics_registry = make_registry(
        IngestMetrics(
            ingest.collector.stats, ingest.collector.spool, ingest.subscriber.connected.is_set
        ),
        *([LedgerMetrics(devices)] if devices else []),
        AnomalyBudgetMetrics(runtime.database),
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
    app.state.tokens = Tokens(
        runtime.settings.resolved_secret_key(), runtime.settings.token_minutes
    )
    app.state.api_keys = ApiKeyCache(runtime.database)
    app.state.login_limiter = LoginLimiter(
        runtime.settings.login_max_failures, runtime.settings.login_window_s
    )
    errors.install(app)
    app.include_router(health.router)  # the one route open to all
    app.include_router(auth.router)  # logging in is open; the rest is checked route by route
    for router, read, write in (
        (health.metrics_router, CONTROL_ROOM, CONTROL_ROOM),
        (ledger.directory, ALL, OFFICE),  # sites, locations, assets: a request needs them
        (ledger.router, STAFF, OFFICE),
        (technicians.router, STAFF, OFFICE),
        (sla.router, STAFF, OFFICE),
        (plans.router, STAFF, STAFF),  # technicians record checklists; plan changes: OFFICE
        (alarms.router, STAFF, CONTROL_ROOM),
        (notifications.router, OFFICE, OFFICE),
        (reports.router, OFFICE, OFFICE),
        (tickets.router, ALL, ALL),  # requesters and technicians: row-level rules inside
    ):
        app.include_router(router, dependencies=[Depends(access(read, write))])
    console.install(app)  # pages check their viewers themselves (login redirect, roles)
    return app

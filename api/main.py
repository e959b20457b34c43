"""The FastAPI application over a running Runtime."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from starlette.types import ASGIApp

from api import console, errors
from api.auth import ALL, CONTROL_ROOM, OFFICE, PATROL, STAFF, Credentials, Tokens, access
from api.headers import SecurityHeaders
from api.limits import LOGIN_FORM, MULTIPART_ENVELOPE, BodyLimits, RequestGate
from api.login_limits import LoginLimiter
from api.metrics import AnomalyBudgetMetrics, IngestMetrics, LedgerMetrics, make_registry
from api.routes import (
    alarms,
    auth,
    health,
    ledger,
    notifications,
    patrols,
    plans,
    reports,
    scopes,
    sla,
    technicians,
    tickets,
    unmapped_devices,
)
from api.runtime import Runtime
from maintenance.alarms.monitor import AlarmMonitor
from maintenance.flows.group_commit import TicketIntake
from rules.engine import RuleEngine


class FacilityApp(FastAPI):
    """FastAPI with the security headers outside its own error middleware, so that even a
    server error's answer carries them."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


def create_app(runtime: Runtime) -> FastAPI:
    # No Swagger UI or ReDoc: FastAPI's pages load their scripts from a CDN into this origin,
    # next to the console's session cookie (docs/security.md). /openapi.json stays.
    app = FacilityApp(
        title="Facility monitoring",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    _install_state(app, runtime)
    app.add_middleware(RequestGate)  # authentication and body limits before any body is read
    errors.install(app)
    _install_routes(app)
    console.install(app)  # pages check their viewers themselves (login redirect, roles)
    return app


def _install_state(app: FastAPI, runtime: Runtime) -> None:
    """What the routes reach through `request.app.state`: the runtime's parts, the metrics, the
    login tokens and limits, the body limits."""
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
    settings = runtime.settings
    app.state.tokens = Tokens(
        settings.resolved_secret_key(), settings.token_minutes, settings.session_max_hours
    )
    app.state.credentials = Credentials(runtime.database, app.state.tokens)
    app.state.login_limiter = LoginLimiter(
        settings.login_max_failures, settings.login_window_s, settings.login_client_max_failures
    )
    app.state.body_limits = BodyLimits(
        settings.request_max_bytes,
        {
            "/tickets/{ticket_id}/attachments": settings.attachment_max_bytes + MULTIPART_ENVELOPE,
            # a phone camera's photo with the check-in's few fields
            "/patrols/check-ins": settings.attachment_max_bytes + MULTIPART_ENVELOPE,
            "/tickets/batch": settings.bulk_request_max_bytes,
            "/assets/import": settings.bulk_request_max_bytes,
            "/auth/token": LOGIN_FORM,
            "/console/login": LOGIN_FORM,
            "/console/logout": LOGIN_FORM,
        },
    )


def _install_routes(app: FastAPI) -> None:
    app.include_router(health.router)  # the one route open to all
    app.include_router(auth.router)  # logging in is open; the rest is checked route by route
    app.include_router(scopes.accounts)  # an account's or key's sites: admin
    for router, read, write in (
        (health.metrics_router, CONTROL_ROOM, CONTROL_ROOM),
        (ledger.directory, ALL, OFFICE),  # sites, locations, assets: a request needs them
        (ledger.router, STAFF, OFFICE),
        (technicians.router, STAFF, OFFICE),
        (sla.router, STAFF, OFFICE),
        (plans.router, STAFF, STAFF),  # technicians record checklists; plan changes: OFFICE
        (patrols.router, PATROL, PATROL),  # technicians check in; rounds and reports: OFFICE
        (alarms.router, STAFF, CONTROL_ROOM),
        (unmapped_devices.router, CONTROL_ROOM, OFFICE),  # the control room maps them
        (notifications.router, OFFICE, OFFICE),
        (reports.router, OFFICE, OFFICE),
        (scopes.router, OFFICE, OFFICE),  # contractor companies and their assets
        (tickets.router, ALL, ALL),  # requesters and technicians: row-level rules inside
    ):
        app.include_router(router, dependencies=[Depends(access(read, write))])

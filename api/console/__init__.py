"""The operator console: server-rendered pages (Jinja2) with a little JavaScript for the live
alarm feed (server-sent events), actions (the JSON API) and SLA countdowns. No front-end build.

Pages log in with the same signed token as the API, kept in an HttpOnly cookie."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.console import (
    alarm_pages,
    device_pages,
    errors,
    patrol_pages,
    report_pages,
    request_pages,
    session,
    ticket_pages,
    unmapped_pages,
)

STATIC = Path(__file__).parent / "static"
MODULES = (
    session,
    alarm_pages,
    unmapped_pages,  # before device_pages: /console/devices/unmapped is not a device
    device_pages,
    ticket_pages,
    request_pages,
    report_pages,
    patrol_pages,
)


def install(app: FastAPI) -> None:
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    session.install(app)
    errors.install(app)
    for module in MODULES:
        app.include_router(module.router, include_in_schema=False)

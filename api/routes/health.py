"""GET /health (JSON, 503 when a component is down) and GET /metrics (Prometheus text)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.auth import PrincipalDep, refuse

router = APIRouter(tags=["operations"])
metrics_router = APIRouter(tags=["operations"])  # behind authentication: an API key for Prometheus


@router.get("/health", responses={503: {"description": "a component is down"}})
def health(request: Request) -> JSONResponse:
    """State of the broker connection, the telemetry store and the database, and the collector's
    counters (received, accepted, spooled, written, dead-lettered, spool backlog)."""
    ok, body = request.app.state.runtime.health()
    return JSONResponse(body, status_code=200 if ok else 503)


@metrics_router.get("/metrics", response_class=Response)
def metrics(request: Request, principal: PrincipalDep) -> Response:
    """The whole service's counters: for callers who see every site (a site-scoped key: 403)."""
    if not principal.scope.everything:
        raise refuse(request, principal, "metrics are the whole service's: a key of every site")
    data: Any = generate_latest(request.app.state.metrics_registry)
    return Response(content=data, media_type=CONTENT_TYPE_LATEST)

"""The FastAPI application over a running Runtime."""

from __future__ import annotations

from fastapi import FastAPI

from api.metrics import IngestMetrics, make_registry
from api.routes import health
from api.runtime import Runtime


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(title="Facility monitoring", version="0.1.0")
    app.state.runtime = runtime
    ingest = runtime.ingest
    app.state.metrics_registry = make_registry(
        IngestMetrics(
            ingest.collector.stats, ingest.collector.spool, ingest.subscriber.connected.is_set
        )
    )
    app.include_router(health.router)
    return app

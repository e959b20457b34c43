"""`facility run`: the whole service (broker unless set, collector, alarms, scheduler, HTTP API,
demo fleet)."""

from __future__ import annotations

import argparse
import signal
from types import FrameType

from api.settings import Settings


def _noted(signum: int, frame: FrameType | None) -> None:
    """A stop signal that uvicorn has already acted on."""


def service_run(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn  # the HTTP side is loaded by this command only

    from api.main import create_app
    from api.runtime import Runtime
    from ingest.process import freeze_startup_objects

    runtime = Runtime(settings)
    runtime.start()
    print("facility service running:")
    for line in runtime.describe():
        print("  " + line)
    print(
        f"  HTTP API        http://{settings.http_host}:{settings.http_port} "
        "(/health, /metrics, /openapi.json)"
    )
    print("Ctrl-C stops it.", flush=True)
    app = create_app(runtime)
    freeze_startup_objects()
    # uvicorn shuts down on SIGTERM/SIGINT and then raises the signal again for the handler it
    # found: Python's default would kill the process (status -15) or raise KeyboardInterrupt
    # before the collector is flushed. Found these, it carries on to the stop below; a second
    # signal during the flush then has its default effect again.
    stopping = {sig: signal.signal(sig, _noted) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        uvicorn.run(
            app,
            host=settings.http_host,
            port=settings.http_port,
            log_level="warning",
            log_config=None,  # uvicorn's records go through our handlers (format, masking)
            # Open live feeds (a control room's alarms page) never end by themselves: after
            # this long they are closed, so a stop is not held up by a screen left open.
            timeout_graceful_shutdown=5,
        )
    finally:
        for sig, handler in stopping.items():
            signal.signal(sig, handler)
        print("stopping: flushing the collector ...", flush=True)
        health = runtime.stop()
        print(
            f"stopped: {health.written} points written, {health.spool_backlog_points} left "
            f"in the spool, {health.dead_lettered} dead letters",
            flush=True,
        )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser(
        "run", help="the whole service: broker (embedded unless set), collector, API, demo fleet"
    ).set_defaults(func=service_run)

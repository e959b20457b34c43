"""How every process of the service logs: one format, URLs masked, uncaught exceptions logged
(and so masked) instead of printed raw, and the chattiest libraries at WARNING."""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

from ingest.redact import MaskingFilter

log = logging.getLogger("facility")


def configure(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskingFilter())  # no URL leaves the process with its credentials
    log_uncaught()
    quiet_libraries()


def log_uncaught() -> None:
    """An exception nobody caught, in the main thread or another, is logged (and so masked)
    instead of printed raw to stderr by Python."""

    def main_thread(kind: type[BaseException], error: BaseException, tb: Any) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, tb)
            return
        log.critical("uncaught exception", exc_info=(kind, error, tb))

    def other_thread(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        name = args.thread.name if args.thread else "?"
        log.critical(
            "uncaught exception in thread %s",
            name,
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )

    sys.excepthook = main_thread
    threading.excepthook = other_thread


def quiet_libraries() -> None:
    """At INFO a line per event an operator cares about: not httpx's line per InfluxDB write
    or webhook request, nor APScheduler's two lines per job run, nor alembic's plugin list.
    Their warnings still show; FACILITY_LOG_LEVEL=DEBUG shows everything."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        for noisy in (
            "httpx",
            "httpcore",
            "apscheduler.executors",
            "apscheduler.scheduler",
            "alembic.runtime.plugins",  # a line per plugin at every start
        ):
            logging.getLogger(noisy).setLevel(logging.WARNING)

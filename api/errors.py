"""The one place where domain errors become HTTP answers."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from maintenance.errors import ConcurrentUpdate, InvalidInput, NotFound
from maintenance.work_orders.lifecycle import TransitionNotAllowed
from rules.alarms import AlarmActionNotAllowed

log = logging.getLogger(__name__)


def _driver_message(error: DataError | IntegrityError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig else "invalid value"


def install(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    async def not_found(request: Request, error: NotFound) -> JSONResponse:
        return JSONResponse(
            {"detail": str(error), "kind": error.kind, "id": str(error.key)}, status_code=404
        )

    @app.exception_handler(InvalidInput)
    async def invalid(request: Request, error: InvalidInput) -> JSONResponse:
        # The same shape as FastAPI's own validation errors: a list with the field path.
        return JSONResponse(
            {
                "detail": [
                    {
                        "loc": ["body", *_path(request, error.field)],
                        "msg": error.message,
                        "type": "value_error",
                    }
                ]
            },
            status_code=422,
        )

    @app.exception_handler(TransitionNotAllowed)
    async def refused(request: Request, error: TransitionNotAllowed) -> JSONResponse:
        return JSONResponse(
            {
                "detail": str(error),
                "state": error.state.value,
                "allowed": [a.value for a in error.allowed],
            },
            status_code=409,
        )

    @app.exception_handler(AlarmActionNotAllowed)
    async def alarm_refused(request: Request, error: AlarmActionNotAllowed) -> JSONResponse:
        return JSONResponse(
            {
                "detail": str(error),
                "state": error.state.value,
                "allowed": [a.value for a in error.allowed],
            },
            status_code=409,
        )

    @app.exception_handler(StaleDataError)
    async def stale(request: Request, error: StaleDataError) -> JSONResponse:
        return JSONResponse({"detail": "changed concurrently; reload and retry"}, status_code=409)

    # Safety nets: input the schemas let through but the database refuses (a NUL byte in a
    # text, a duplicate name) is the caller's error, answered as such and logged so that the
    # missing validation gets added; never a 500.
    @app.exception_handler(DataError)
    async def bad_value(request: Request, error: DataError) -> JSONResponse:
        message = _driver_message(error)
        log.warning(
            "database refused a value: %s %s: %s", request.method, request.url.path, message
        )
        return JSONResponse(
            {"detail": [{"loc": ["body"], "msg": message, "type": "value_error"}]},
            status_code=422,
        )

    @app.exception_handler(IntegrityError)
    async def integrity(request: Request, error: IntegrityError) -> JSONResponse:
        message = _driver_message(error)
        log.warning("database constraint: %s %s: %s", request.method, request.url.path, message)
        duplicate = getattr(error.orig, "sqlstate", None) == "23505" or "UNIQUE" in message
        if duplicate:
            return JSONResponse({"detail": f"already exists: {message}"}, status_code=409)
        return JSONResponse(
            {"detail": [{"loc": ["body"], "msg": message, "type": "value_error"}]},
            status_code=422,
        )

    @app.exception_handler(ConcurrentUpdate)
    async def conflict(request: Request, error: ConcurrentUpdate) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=409)


def _path(request: Request, field: str) -> list[str | int]:
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in field.split(".")]
    if request.url.path.endswith("/batch") and parts and isinstance(parts[0], int):
        return ["items", *parts]
    return parts

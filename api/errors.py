"""The one place where domain errors become HTTP answers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from maintenance.alarms.lifecycle import AlarmActionNotAllowed
from maintenance.errors import ConcurrentUpdate, InvalidInput, NotFound
from maintenance.work_orders.lifecycle import TransitionNotAllowed

log = logging.getLogger(__name__)


def _driver_message(error: DataError | IntegrityError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig else "invalid value"


async def _not_found(request: Request, error: NotFound) -> JSONResponse:
    return JSONResponse(
        {"detail": str(error), "kind": error.kind, "id": str(error.key)}, status_code=404
    )


async def _invalid(request: Request, error: InvalidInput) -> JSONResponse:
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


async def _not_allowed(
    request: Request, error: TransitionNotAllowed | AlarmActionNotAllowed
) -> JSONResponse:
    """A ticket's or an alarm's action its state does not allow: the state and the choices."""
    return JSONResponse(
        {
            "detail": str(error),
            "state": error.state.value,
            "allowed": [a.value for a in error.allowed],
        },
        status_code=409,
    )


async def _stale(request: Request, error: StaleDataError) -> JSONResponse:
    return JSONResponse({"detail": "changed concurrently; reload and retry"}, status_code=409)


# Safety nets: input the schemas let through but the database refuses (a NUL byte in a text, a
# duplicate name) is the caller's error, answered as such and logged so that the missing
# validation gets added; never a 500.
async def _bad_value(request: Request, error: DataError) -> JSONResponse:
    message = _driver_message(error)
    log.warning("database refused a value: %s %s: %s", request.method, request.url.path, message)
    return JSONResponse(
        {"detail": [{"loc": ["body"], "msg": message, "type": "value_error"}]}, status_code=422
    )


async def _integrity(request: Request, error: IntegrityError) -> JSONResponse:
    message = _driver_message(error)
    log.warning("database constraint: %s %s: %s", request.method, request.url.path, message)
    duplicate = getattr(error.orig, "sqlstate", None) == "23505" or "UNIQUE" in message
    if duplicate:
        return JSONResponse({"detail": f"already exists: {message}"}, status_code=409)
    return JSONResponse(
        {"detail": [{"loc": ["body"], "msg": message, "type": "value_error"}]}, status_code=422
    )


async def _conflict(request: Request, error: ConcurrentUpdate) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=409)


HANDLERS: dict[type[Exception], Callable[[Request, Any], Awaitable[JSONResponse]]] = {
    NotFound: _not_found,
    InvalidInput: _invalid,
    TransitionNotAllowed: _not_allowed,
    AlarmActionNotAllowed: _not_allowed,
    StaleDataError: _stale,
    DataError: _bad_value,
    IntegrityError: _integrity,
    ConcurrentUpdate: _conflict,
}


def install(app: FastAPI) -> None:
    for kind, handler in HANDLERS.items():
        app.add_exception_handler(kind, handler)


def _path(request: Request, field: str) -> list[str | int]:
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in field.split(".")]
    if request.url.path.endswith("/batch") and parts and isinstance(parts[0], int):
        return ["items", *parts]
    return parts

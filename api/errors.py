"""The one place where domain errors become HTTP answers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.language import request_language
from maintenance.alarms.lifecycle import AlarmActionNotAllowed
from maintenance.errors import ConcurrentUpdate, InvalidInput, NotFound
from maintenance.language.catalogue import N_, gettext_, using
from maintenance.language.words import label
from maintenance.work_orders.lifecycle import TransitionNotAllowed

log = logging.getLogger(__name__)


def _driver_message(error: DataError | IntegrityError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig else "invalid value"


def say(request: Request, message: str, **values: object) -> str:
    """A message in the caller's language (Accept-Language, else the installation's default);
    the values put into it stay as they are (ids, field names, states are the contract)."""
    with using(request_language(request)):
        text = gettext_(message)
        return text.format(**values) if values else text


async def _not_found(request: Request, error: NotFound) -> JSONResponse:
    return JSONResponse(
        {
            "detail": say(
                request, N_("{kind} {key} not found"), kind=_Kind(error.kind), key=error.key
            ),
            "kind": error.kind,
            "id": str(error.key),
        },
        status_code=404,
    )


async def _http(request: Request, error: StarletteHTTPException) -> Response:
    """FastAPI's own answer, its detail in the caller's language when the catalogue has it
    (the service's fixed messages are marked N_ where they are raised)."""
    if isinstance(error.detail, str):
        error = StarletteHTTPException(
            error.status_code, _detail(request, error.detail), headers=error.headers
        )
    return await http_exception_handler(request, error)


def _detail(request: Request, detail: str) -> str:
    head, sep, rest = detail.partition(": ")
    if sep and head in _PREFIXES:  # "not allowed: role technician"
        return say(request, head) + say(request, ": ") + rest
    return say(request, detail)


class _Kind(str):
    """A kind of thing, said in the language the message is said in."""

    def __format__(self, spec: str) -> str:
        return label(str(self))


_PREFIXES = frozenset({N_("not allowed"), N_("already exists")})


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
    allowed = ", ".join(a.value for a in error.allowed) or "none"
    action = str(getattr(error.action, "value", error.action))
    if isinstance(error, TransitionNotAllowed):
        message = N_("cannot {action} a ticket in state {state}; allowed: {allowed}")
    else:
        message = N_("cannot {action} an alarm that is {state}")
    return JSONResponse(
        {
            "detail": say(
                request, message, action=action, state=error.state.value, allowed=allowed
            ),
            "state": error.state.value,
            "allowed": [a.value for a in error.allowed],
        },
        status_code=409,
    )


async def _stale(request: Request, error: StaleDataError) -> JSONResponse:
    return JSONResponse(
        {"detail": say(request, N_("changed concurrently; reload and retry"))}, status_code=409
    )


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
    message = N_("ticket {ticket} was changed concurrently; reload and retry")
    return JSONResponse({"detail": say(request, message, ticket=error.ticket_id)}, status_code=409)


async def _not_unicode(request: Request, error: UnicodeEncodeError) -> JSONResponse:
    """JSON may escape half of a surrogate pair (\\ud800); no database can store it."""
    message = say(request, N_("the text holds a lone surrogate code point: not valid Unicode"))
    return JSONResponse(
        {"detail": [{"loc": ["body"], "msg": message, "type": "value_error"}]}, status_code=422
    )


HANDLERS: dict[type[Exception], Callable[[Request, Any], Awaitable[Response]]] = {
    NotFound: _not_found,
    InvalidInput: _invalid,
    TransitionNotAllowed: _not_allowed,
    AlarmActionNotAllowed: _not_allowed,
    StaleDataError: _stale,
    DataError: _bad_value,
    IntegrityError: _integrity,
    ConcurrentUpdate: _conflict,
    UnicodeEncodeError: _not_unicode,
    StarletteHTTPException: _http,
}


def install(app: FastAPI) -> None:
    for kind, handler in HANDLERS.items():
        app.add_exception_handler(kind, handler)


def _path(request: Request, field: str) -> list[str | int]:
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in field.split(".")]
    if request.url.path.endswith("/batch") and parts and isinstance(parts[0], int):
        return ["items", *parts]
    return parts

"""Errors a person meets in the console are pages they can read, never raw JSON: an unknown
page or id, another person's ticket, a refused action, a bad value in an address. The JSON API
keeps its own answers; only console pages (`/console/...`, not its static files or the calls
its script makes to the API) get these."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.console.render import respond
from maintenance.errors import InvalidInput, NotFound
from maintenance.language.catalogue import N_, gettext_
from maintenance.language.words import label
from maintenance.work_orders.lifecycle import TransitionNotAllowed

Handler = Callable[[Request, Any], Awaitable[Response]]
TITLES = {
    400: N_("Bad request"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Not allowed here"),
    409: N_("Not possible now"),
    413: N_("Too large"),
    422: N_("Check what you entered"),
    429: N_("Too many attempts"),
}


def is_page(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/console") and not path.startswith("/console/static")


def _message(error: Exception) -> tuple[int, str]:
    """Said in the page's language: called while the page renders (`respond`)."""
    if isinstance(error, NotFound):
        text = gettext_("There is no {kind} {key}, or it is not yours to see.")
        return 404, text.format(kind=label(error.kind), key=error.key)
    if isinstance(error, RequestValidationError):
        parts = []
        for e in error.errors():
            where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "path"))
            parts.append(f"{where}: {e.get('msg', 'invalid')}")
        return 422, "; ".join(parts)  # pydantic's own words, with the field's path
    if isinstance(error, InvalidInput):
        return 422, f"{error.field}: {error.message}"
    if isinstance(error, TransitionNotAllowed):
        text = gettext_("{action} is not possible while the ticket is {state}.")
        return 409, text.format(action=label(error.action), state=label(error.state))
    if isinstance(error, StarletteHTTPException):
        if error.status_code == 404:
            return 404, gettext_("There is no such page.")
        return error.status_code, gettext_(str(error.detail))
    return 500, gettext_("Something went wrong.")


def install(app: FastAPI) -> None:
    """Wraps the app's handlers: console pages get a page, everything else the JSON answer."""
    kinds: tuple[type[Exception], ...] = (
        StarletteHTTPException,
        RequestValidationError,
        NotFound,
        InvalidInput,
        TransitionNotAllowed,
    )
    for kind in kinds:
        original: Handler | None = app.exception_handlers.get(kind)  # type: ignore[assignment]
        app.add_exception_handler(kind, _page_or(original))


def _page_or(original: Handler | None) -> Handler:
    async def handle(request: Request, error: Exception) -> Response:
        if is_page(request) or original is None:
            return respond(
                request,
                "error.html",
                {"error": error, "describe": _message, "titles": TITLES},
                status_code=_message(error)[0],
            )
        return await original(request, error)

    return handle

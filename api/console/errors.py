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

from api.console.render import templates
from maintenance.errors import InvalidInput, NotFound
from maintenance.work_orders.lifecycle import TransitionNotAllowed

Handler = Callable[[Request, Any], Awaitable[Response]]
TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Not possible now",
    413: "Too large",
    422: "Check what you entered",
    429: "Too many attempts",
}


def is_page(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/console") and not path.startswith("/console/static")


def _message(error: Exception) -> tuple[int, str]:
    if isinstance(error, NotFound):
        return 404, f"There is no {error.kind} {error.key}, or it is not yours to see."
    if isinstance(error, RequestValidationError):
        parts = []
        for e in error.errors():
            where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "path"))
            parts.append(f"{where}: {e.get('msg', 'invalid')}")
        return 422, "; ".join(parts)
    if isinstance(error, InvalidInput):
        return 422, f"{error.field}: {error.message}"
    if isinstance(error, TransitionNotAllowed):
        return 409, str(error)
    if isinstance(error, StarletteHTTPException):
        if error.status_code == 404:
            return 404, "There is no such page."
        return error.status_code, str(error.detail)
    return 500, "Something went wrong."


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
            status, message = _message(error)
            return templates.TemplateResponse(
                request,
                "error.html",
                {"title": TITLES.get(status, "Error"), "message": message, "status": status},
                status_code=status,
            )
        return await original(request, error)

    return handle

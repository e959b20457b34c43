"""Logging in and out of the console, and who may see which page.

A page asked for without a session redirects to the login form; a page the role may not see
answers 403 with a page that says so (and the refusal is in the security log)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import (
    ALL,
    CONTROL_ROOM,
    SESSION_COOKIE,
    Principal,
    Tokens,
    bearer,
    current_principal,
    log_in,
    refuse,
)
from api.console.render import templates
from api.deps import DatabaseDep, NowDep

router = APIRouter()


class LoginRequired(Exception):
    def __init__(self, path: str) -> None:
        self.path = path


class PageForbidden(Exception):
    def __init__(self, why: str) -> None:
        self.why = why


def install(app: FastAPI) -> None:
    async def to_login(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(f"/console/login?next={quote(exc.path)}", status_code=303)

    async def forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageForbidden)
        return templates.TemplateResponse(
            request, "forbidden.html", {"why": exc.why}, status_code=403
        )

    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(PageForbidden, forbidden)


def viewer(roles: frozenset[str]) -> Callable[..., Awaitable[Principal]]:
    """A page's rule: logged-in people of these roles."""

    async def check(request: Request, token: Annotated[str | None, Depends(bearer)]) -> Principal:
        try:  # the API's own resolution: a bearer token or API key works for pages too
            principal = await current_principal(request, token)
        except HTTPException as error:
            raise LoginRequired(request.url.path) from error
        if principal.role not in roles:
            refused = await run_in_threadpool(refuse, request, principal, f"role {principal.role}")
            raise PageForbidden(str(refused.detail))
        return principal

    return check


ControlRoom = Annotated[Principal, Depends(viewer(CONTROL_ROOM))]


def _safe_next(target: str) -> str:
    """Only our own console pages: a crafted link must not bounce a fresh login elsewhere."""
    return target if target.startswith("/console") and not target.startswith("//") else "/console"


@router.get("/console/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/console") -> HTMLResponse:
    return templates.TemplateResponse(
        request, "login.html", {"next": _safe_next(next), "error": None}
    )


@router.post("/console/login", response_class=HTMLResponse)
def login(
    request: Request,
    db: DatabaseDep,
    now: NowDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/console",
) -> Response:
    try:
        token = log_in(request, db, now, username, password)
    except HTTPException as error:
        return templates.TemplateResponse(
            request,
            "login.html",
            {"next": _safe_next(next), "error": error.detail},
            status_code=error.status_code,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    _set_cookie(request, response, token)
    return response


@router.post("/console/session")
async def refresh(request: Request) -> Response:
    """A fresh token for a valid session: the console calls it while open, so a control-room
    screen stays logged in while short-lived tokens still bound a stolen cookie's use."""
    principal = await current_principal(request, None)
    tokens: Tokens = request.app.state.tokens
    response = Response(status_code=204)
    _set_cookie(
        request, response, tokens.issue(principal.name, principal.role, principal.technician_id)
    )
    return response


@router.post("/console/logout")
def logout() -> Response:
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _set_cookie(request: Request, response: Response, token: str) -> None:
    tokens: Tokens = request.app.state.tokens
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=tokens.minutes * 60,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@router.get("/console")
async def home(principal: Annotated[Principal, Depends(viewer(ALL))]) -> Response:
    if principal.role == "technician":
        return RedirectResponse("/console/my", status_code=303)
    if principal.role == "requester":
        return RedirectResponse("/console/requests", status_code=303)
    return RedirectResponse("/console/alarms", status_code=303)

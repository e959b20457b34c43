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
    Credentials,
    LoggedIn,
    Principal,
    Tokens,
    bearer,
    client_of,
    current_principal,
    log_in,
    log_out,
    refuse,
    unauthenticated,
)
from api.console import csrf
from api.console.render import respond
from api.deps import DatabaseDep, NowDep
from maintenance.language.catalogue import N_

router = APIRouter()


class LoginRequired(Exception):
    def __init__(self, path: str) -> None:
        self.path = path


class PageForbidden(Exception):
    def __init__(self, why: str, principal: Principal) -> None:
        self.why, self.principal = why, principal


def install(app: FastAPI) -> None:
    async def to_login(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(f"/console/login?next={quote(exc.path)}", status_code=303)

    async def forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageForbidden)
        return respond(
            request,
            "forbidden.html",
            {
                "why": exc.why,
                "role": exc.principal.role,
                "csrf": csrf.logout_token(request, exc.principal),
            },
            account_language=exc.principal.language,
            status_code=403,
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
            raise PageForbidden(str(refused.detail), principal)
        return principal

    return check


ControlRoom = Annotated[Principal, Depends(viewer(CONTROL_ROOM))]


def _safe_next(target: str) -> str:
    """Only our own console pages: a crafted link must not bounce a fresh login elsewhere."""
    return target if target.startswith("/console") and not target.startswith("//") else "/console"


@router.get("/console/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/console") -> Response:
    return _login_page(request, next, None, 200)


def _login_page(request: Request, next: str, error: object, status_code: int) -> Response:
    """The form, with a fresh login token in it and in its cookie (csrf.py)."""
    token = csrf.new_login_token()
    response = respond(
        request,
        "login.html",
        {"next": _safe_next(next), "error": error, "csrf": token},
        status_code=status_code,
    )
    csrf.set_login_cookie(request, response, token)
    return response


@router.post("/console/login", response_class=HTMLResponse)
def login(
    request: Request,
    db: DatabaseDep,
    now: NowDep,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=2000)] = "/console",
    csrf_token: Annotated[str, Form(alias="csrf", max_length=100)] = "",
) -> Response:
    if not csrf.login_token_ok(request, csrf_token):
        # A form posted from another site, or one that outlived its token: a fresh form.
        return _login_page(request, next, N_("the login form expired; please log in again"), 403)
    try:
        done = log_in(request, db, now, username, password)
    except HTTPException as error:
        return _login_page(request, next, error.detail, error.status_code)
    response = RedirectResponse(_safe_next(next), status_code=303)
    _set_cookie(request, response, done)
    response.delete_cookie(csrf.LOGIN_COOKIE, path="/console")
    return response


@router.post("/console/session", status_code=204, responses={401: {"description": "ended"}})
async def refresh(request: Request) -> Response:
    """A fresh token for a live session cookie: the console calls it while open, so a
    control-room screen stays logged in while short-lived tokens bound a stolen cookie's use.
    Only the cookie renews (not an API key or a bearer token), only while the account is active
    and the session open, and never past the session's maximum lifetime."""
    principal = await current_principal(request, None)
    if principal.via != "session" or principal.session_id is None:
        raise unauthenticated("only a console session cookie renews; log in again")
    tokens: Tokens = request.app.state.tokens
    sid = tokens.session_id(request.cookies.get(SESSION_COOKIE, ""))
    if sid is None or principal.session_expires_at is None:  # expired since it was checked
        raise unauthenticated()
    token, expires_in = tokens.issue(principal.name, sid, principal.session_expires_at)
    response = Response(status_code=204)
    _set_cookie(request, response, LoggedIn(token, expires_in))
    return response


@router.post("/console/logout")
async def logout(
    request: Request,
    now: NowDep,
    csrf_token: Annotated[str, Form(alias="csrf", max_length=100)] = "",
) -> Response:
    """Ends the session in the database (its cookie is refused from the next request on, even
    if kept), then forgets the cookie."""
    credentials: Credentials = request.app.state.credentials
    cookie = request.cookies.get(SESSION_COOKIE)
    principal = None
    if cookie:  # the form carries no console header; the logout token stands in for it
        principal = await run_in_threadpool(
            credentials.by_token, cookie, "session", client_of(request)
        )
    if principal is not None:
        if not csrf.logout_token_ok(request, principal, csrf_token):
            return respond(
                request,
                "forbidden.html",
                {
                    "why": N_("log out from a console page of this site"),
                    "csrf": csrf.logout_token(request, principal),
                },
                account_language=principal.language,
                status_code=403,
            )
        await run_in_threadpool(log_out, request, principal, now=now)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _set_cookie(request: Request, response: Response, done: LoggedIn) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        done.token,
        max_age=done.expires_in,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@router.get("/console")
async def home(principal: Annotated[Principal, Depends(viewer(ALL))]) -> Response:
    if principal.role in ("technician", "contractor"):
        return RedirectResponse("/console/my", status_code=303)
    if principal.role == "requester":
        return RedirectResponse("/console/requests", status_code=303)
    return RedirectResponse("/console/alarms", status_code=303)

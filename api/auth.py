"""Who is calling, and may they: OAuth2 password flow with short-lived signed tokens that name a
server-side login session (people), API keys (integrations, Prometheus), role checks per router.
Every request checks its session or key in the database, so logging out, disabling an account
or revoking a key takes effect on the next request. Logins and refusals go to the security log.

Roles: admin, manager, engineer (watches alarms, dispatches), technician (works assigned
tickets), contractor (a contractor company's people: like a technician, on the company's assets
only), requester (residents and tenants: their own requests only). Row-level rules (a
requester's own tickets, a technician's assigned ones) are in maintenance.work_orders; what
each caller sees (sites, a contractor's assets) is the scope resolved here with the credential
and applied by every query (maintenance/scope.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from api.login_limits import LoginLimiter
from maintenance.accounts import service as users
from maintenance.accounts import sessions
from maintenance.language.catalogue import N_
from maintenance.scope import EVERYTHING, Scope
from maintenance.storage.db import Database, utcnow
from maintenance.work_orders import scopes

ALL = frozenset({"admin", "manager", "engineer", "technician", "contractor", "requester"})
# A contractor's people read like technicians, within their company's assets.
STAFF = frozenset({"admin", "manager", "engineer", "technician", "contractor"})
OFFICE = frozenset({"admin", "manager"})
# A site's own people walk its patrol rounds; a contractor's people maintain equipment only.
PATROL = frozenset({"admin", "manager", "engineer", "technician"})
CONTROL_ROOM = frozenset({"admin", "manager", "engineer"})
ALGORITHM = "HS256"
# The console's browser session: the same signed token, in an HttpOnly SameSite=Strict cookie.
SESSION_COOKIE = "facility_session"
# Changes made with the session cookie must carry this header: a page of another site cannot
# set it on a cross-site request without a CORS preflight we never grant (CSRF defence).
CONSOLE_HEADER = "x-facility-console"

SAFE_METHODS = ("GET", "HEAD")
NOT_AUTHENTICATED = N_("not authenticated: log in at /auth/token or send an API key")

bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: str
    technician_id: int | None = None
    via: str = "token"  # token | api_key | session
    session_id: int | None = None  # the login session a token or cookie names
    key_id: int | None = None
    user_id: int | None = None
    session_expires_at: datetime | None = None
    # When the token it came with expires (None: an API key): a live feed ends then, and the
    # page opens it again with its renewed cookie.
    token_expires_at: datetime | None = None
    language: str | None = None  # the account's chosen language (api/language.py)
    # What the caller may see (sites, a contractor's assets): resolved with the credential,
    # applied by every query (maintenance/scope.py).
    scope: Scope = EVERYTHING

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


class Tokens:
    """Signed tokens that name a login session; valid `minutes`, never past the session's end."""

    def __init__(self, secret: str, minutes: int, session_hours: float) -> None:
        self.secret, self.minutes = secret, minutes
        self.session_lifetime = timedelta(hours=session_hours)

    def issue(self, username: str, sid: str, session_expires_at: datetime) -> tuple[str, int]:
        """The token and how many seconds it is valid."""
        now = datetime.now(UTC)
        expires = min(now + timedelta(minutes=self.minutes), session_expires_at)
        claims = {"sub": username, "sid": sid, "iat": now, "exp": expires}
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM), max(
            int((expires - now).total_seconds()), 0
        )

    def session_id(self, token: str) -> str | None:
        """The session a genuine, unexpired token names."""
        named = self.named(token)
        return named[0] if named else None

    def named(self, token: str) -> tuple[str, datetime] | None:
        """A genuine, unexpired token's session and expiry."""
        try:
            claims: dict[str, Any] = jwt.decode(token, self.secret, algorithms=[ALGORITHM])
        except jwt.PyJWTError:
            return None
        sid, exp = claims.get("sid"), claims.get("exp")
        if not isinstance(sid, str) or not isinstance(exp, int | float):
            return None
        return sid, datetime.fromtimestamp(exp, UTC)


class Credentials:
    """Tokens and API keys checked against the database on every request."""

    def __init__(self, database: Database, tokens: Tokens) -> None:
        self.database, self.tokens = database, tokens

    def by_token(self, token: str, via: str, client: str) -> Principal | None:
        named = self.tokens.named(token)
        if named is None:
            return None
        sid, expires = named
        with self.database.read() as s:
            found = sessions.check_session(s, sid, now=utcnow())
            scope = self._scope(s, found)
        principal = self._principal(found, via, client, scope)
        return replace(principal, token_expires_at=expires) if principal else None

    def by_key(self, key: str, client: str) -> Principal | None:
        with self.database.read() as s:
            found = sessions.check_key(s, users.key_hash(key))
            scope = self._scope(s, found)
        return self._principal(found, "api_key", client, scope)

    @staticmethod
    def _scope(s: Session, found: sessions.Live | sessions.Refused | None) -> Scope:
        if not isinstance(found, sessions.Live):
            return EVERYTHING  # no principal is made from it
        return scopes.of_account(s, user_id=found.user_id, key_id=found.key_id)

    def scope_of(self, principal: Principal) -> Scope:
        """The caller's scope as it is now (a live feed re-checks it)."""
        with self.database.read() as s:
            return scopes.of_account(s, user_id=principal.user_id, key_id=principal.key_id)

    def still_live(self, principal: Principal) -> bool:
        with self.database.read() as s:
            return sessions.still_live(
                s, now=utcnow(), session_id=principal.session_id, key_id=principal.key_id
            )

    def _principal(
        self,
        found: sessions.Live | sessions.Refused | None,
        via: str,
        client: str,
        scope: Scope,
    ) -> Principal | None:
        if isinstance(found, sessions.Refused):
            # A credential that worked once: its use after the end is worth an admin's look.
            with self.database.transaction() as s:
                users.record(
                    s,
                    actor=found.name,
                    action="credential_refused",
                    now=utcnow(),
                    detail=found.why,
                    client=client,
                )
            return None
        if found is None:
            return None
        return Principal(
            found.name,
            found.role,
            found.technician_id,
            via=via,
            session_id=found.session_id,
            key_id=found.key_id,
            session_expires_at=found.expires_at,
            language=found.language,
            scope=scope,
            user_id=found.user_id,
        )


def client_of(request: HTTPConnection) -> str:
    return request.client.host if request.client else ""


@dataclass(frozen=True, slots=True)
class LoggedIn:
    token: str
    expires_in: int


def log_in(request: Request, db: Database, now: datetime, username: str, password: str) -> LoggedIn:
    """A new session and its signed token for a right password; 401 for a wrong one, 429 while
    the account (or, far later, the address) is throttled (api/login_limits.py). Every attempt
    goes to the security log."""
    limiter: LoginLimiter = request.app.state.login_limiter
    tokens: Tokens = request.app.state.tokens
    client = client_of(request)
    block = limiter.blocked(username, client)
    if block is not None:
        with db.transaction() as s:
            users.record(
                s,
                actor=username,
                action="login_blocked",
                now=now,
                detail=f"{block.scope} throttled for {int(block.wait_s) + 1} s",
                client=client,
            )
        raise HTTPException(
            429,
            N_("too many failed logins; try later"),
            headers={"Retry-After": str(int(block.wait_s) + 1)},
        )
    with db.transaction() as s:
        user = users.authenticate(s, username, password)
        if user is None:
            block = limiter.failed(username, client)
            detail = (
                ""
                if block is None
                else f"{block.scope} now throttled for {int(block.wait_s) + 1} s"
            )
            users.record(
                s, actor=username, action="login_failed", now=now, detail=detail, client=client
            )
            found = None
        else:
            # Real time, not the app's clock: sessions are checked against real time.
            sid, row = sessions.start(
                s, user, now=utcnow(), lifetime=tokens.session_lifetime, client=client
            )
            users.record(
                s,
                actor=username,
                action="login",
                now=now,
                detail=f"session {row.id}",
                client=client,
            )
            found = (user.username, sid, row.expires_at)
    if found is None:
        raise HTTPException(
            401, N_("wrong username or password"), headers={"WWW-Authenticate": "Bearer"}
        )
    limiter.succeeded(username, client)
    token, expires_in = tokens.issue(*found)
    return LoggedIn(token, expires_in)


def log_out(request: Request, principal: Principal, *, now: datetime) -> bool:
    """End the caller's session; True when it was open."""
    database: Database = request.app.state.database
    if principal.session_id is None:
        return False
    with database.transaction() as s:
        ended = sessions.end(s, principal.session_id, reason="logout", now=now)
        if ended:
            users.record(
                s,
                actor=principal.name,
                action="logout",
                now=now,
                detail=f"session {principal.session_id}",
                client=client_of(request),
            )
    return ended


def unauthenticated(detail: str = NOT_AUTHENTICATED) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


async def resolve(request: HTTPConnection) -> Principal | None:
    """Who sends this request (None: nobody we know), read from headers and cookies only, so it
    can run before the body is read (api/limits.py). Raises 403 for a cookie change without the
    console header."""
    credentials: Credentials = request.app.state.credentials
    client = client_of(request)
    key = request.headers.get("x-api-key")
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    if key:
        return await run_in_threadpool(credentials.by_key, key, client)
    if token:
        if token.startswith("fk_"):  # an API key sent as a bearer token (Prometheus does)
            return await run_in_threadpool(credentials.by_key, token, client)
        return await run_in_threadpool(credentials.by_token, token, "token", client)
    if cookie := request.cookies.get(SESSION_COOKIE):
        if (
            request.scope.get("method") not in SAFE_METHODS
            and CONSOLE_HEADER not in request.headers
        ):
            raise HTTPException(
                403, f"a change with the session cookie needs the {CONSOLE_HEADER} header"
            )
        return await run_in_threadpool(credentials.by_token, cookie, "session", client)
    return None


async def current_principal(
    request: Request,
    token: Annotated[str | None, Depends(bearer)],  # declares the scheme in OpenAPI (Authorize)
) -> Principal:
    """Async on purpose: the check itself goes to the thread pool once, not the dependency.
    A principal already resolved before the body was read (api/limits.py) is reused."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        principal = await resolve(request)
    if principal is None:
        raise unauthenticated()
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def audit_name(principal: Principal, claimed: str | None) -> str:
    """Who the audit trail names: a logged-in person is always themselves; an integration's key
    may name the person it acts for (a front-desk system, the hotline's software)."""
    if principal.via == "api_key":
        return claimed if claimed and claimed != "api" else principal.name
    return principal.name


def refuse(request: Request, principal: Principal, why: str) -> HTTPException:
    """403, recorded in the security log."""
    database: Database = request.app.state.database
    with database.transaction() as session:
        users.record(
            session,
            actor=principal.name,
            action="denied",
            now=utcnow(),
            detail=f"{request.method} {request.url.path}: {why}",
            client=client_of(request),
        )
    return HTTPException(403, f"{N_('not allowed')}: {why}")


def access(read: frozenset[str], write: frozenset[str]) -> Callable[..., Awaitable[Principal]]:
    """A router's rule: these roles may read (GET), those may change (anything else)."""

    async def check(request: Request, principal: PrincipalDep) -> Principal:
        allowed = read if request.method in SAFE_METHODS else write
        if principal.role not in allowed:
            raise await run_in_threadpool(refuse, request, principal, f"role {principal.role}")
        return principal

    return check

"""Who is calling, and may they: OAuth2 password flow with short-lived signed tokens (people),
API keys (integrations, Prometheus), role checks per router, and login rate limiting. Logins and
refusals go to the security log.

Roles: admin, manager, engineer (watches alarms, dispatches), technician (works assigned
tickets), requester (residents and tenants: their own requests only). Row-level rules (a
requester's own tickets, a technician's assigned ones) are in the ticket routes."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer

from maintenance.db import Database, utcnow
from maintenance.users import service as users

ALL = frozenset({"admin", "manager", "engineer", "technician", "requester"})
STAFF = frozenset({"admin", "manager", "engineer", "technician"})
OFFICE = frozenset({"admin", "manager"})
CONTROL_ROOM = frozenset({"admin", "manager", "engineer"})
ALGORITHM = "HS256"
# The console's browser session: the same signed token, in an HttpOnly SameSite=Strict cookie.
SESSION_COOKIE = "facility_session"
# Changes made with the session cookie must carry this header: a page of another site cannot
# set it on a cross-site request without a CORS preflight we never grant (CSRF defence).
CONSOLE_HEADER = "x-facility-console"

SAFE_METHODS = ("GET", "HEAD")

bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: str
    technician_id: int | None = None
    via: str = "token"  # token | api_key | session

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


class Tokens:
    def __init__(self, secret: str, minutes: int) -> None:
        self.secret, self.minutes = secret, minutes

    def issue(self, username: str, role: str, technician_id: int | None) -> str:
        now = datetime.now(UTC)
        claims = {
            "sub": username,
            "role": role,
            "tid": technician_id,
            "iat": now,
            "exp": now + timedelta(minutes=self.minutes),
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def read(self, token: str) -> Principal | None:
        try:
            claims = jwt.decode(token, self.secret, algorithms=[ALGORITHM])
        except jwt.PyJWTError:
            return None
        return Principal(str(claims["sub"]), str(claims["role"]), claims.get("tid"))

    def read_session(self, token: str) -> Principal | None:
        principal = self.read(token)
        return None if principal is None else replace(principal, via="session")


class ApiKeyCache:
    """Keys checked in the database at most once a minute each (a revoked key stops working
    within that minute), so integrations pay no database round trip per request."""

    def __init__(self, database: Database, ttl_s: float = 60.0) -> None:
        self.database, self.ttl_s = database, ttl_s
        self._seen: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    async def lookup(self, key: str) -> Principal | None:
        """On the event loop: a cached key costs nothing; a miss goes to the thread pool."""
        with self._lock:
            hit = self._seen.get(users.key_hash(key))
        if hit is not None and time.monotonic() - hit[0] < self.ttl_s:
            return hit[1]
        return await run_in_threadpool(self.principal, key)

    def principal(self, key: str) -> Principal | None:
        digest = users.key_hash(key)
        with self._lock:
            hit = self._seen.get(digest)
        if hit is not None and time.monotonic() - hit[0] < self.ttl_s:
            return hit[1]
        with self.database.read() as session:
            row = users.find_api_key(session, key)
            found = Principal(f"key:{row.name}", row.role, via="api_key") if row else None
        with self._lock:
            self._seen[digest] = (time.monotonic(), found)
        return found


class LoginLimiter:
    """At most `failures` failed logins per username and per client in `window_s`."""

    def __init__(self, failures: int, window_s: float) -> None:
        self.failures, self.window_s = failures, window_s
        self._failed: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked_for(self, *keys: str) -> float:
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                attempts = self._failed[key]
                while attempts and now - attempts[0] > self.window_s:
                    attempts.popleft()
                if len(attempts) >= self.failures:
                    wait = max(wait, self.window_s - (now - attempts[0]))
        return wait

    def failed(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failed[key].append(time.monotonic())

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failed.pop(username, None)


def client_of(request: Request) -> str:
    return request.client.host if request.client else ""


def log_in(request: Request, db: Database, now: datetime, username: str, password: str) -> str:
    """A signed token for a right password; 401 for a wrong one, 429 after too many failures
    (per username and per client). Every attempt goes to the security log."""
    limiter: LoginLimiter = request.app.state.login_limiter
    client = client_of(request)
    wait = limiter.blocked_for(username, f"client:{client}")
    if wait > 0:
        with db.transaction() as s:
            users.record(s, actor=username, action="login_blocked", now=now, client=client)
        raise HTTPException(
            429, "too many failed logins; try later", headers={"Retry-After": str(int(wait) + 1)}
        )
    with db.transaction() as s:
        user = users.authenticate(s, username, password)
        users.record(
            s, actor=username, action="login" if user else "login_failed", now=now, client=client
        )
        found = (user.username, user.role, user.technician_id) if user else None
    if found is None:
        limiter.failed(username, f"client:{client}")
        raise HTTPException(
            401, "wrong username or password", headers={"WWW-Authenticate": "Bearer"}
        )
    limiter.succeeded(username)
    tokens: Tokens = request.app.state.tokens
    return tokens.issue(*found)


async def current_principal(
    request: Request, token: Annotated[str | None, Depends(bearer)]
) -> Principal:
    """Async on purpose: a sync dependency would cost every request a thread-pool hop."""
    key = request.headers.get("x-api-key")
    keys: ApiKeyCache = request.app.state.api_keys
    tokens: Tokens = request.app.state.tokens
    principal: Principal | None = None
    if key:
        principal = await keys.lookup(key)
    elif token:
        if token.startswith("fk_"):  # an API key sent as a bearer token (Prometheus does)
            principal = await keys.lookup(token)
        else:
            principal = tokens.read(token)
    elif session := request.cookies.get(SESSION_COOKIE):
        principal = tokens.read_session(session)
        if (
            principal
            and request.method not in SAFE_METHODS
            and CONSOLE_HEADER not in request.headers
        ):
            raise HTTPException(
                403, f"a change with the session cookie needs the {CONSOLE_HEADER} header"
            )
    if principal is None:
        raise HTTPException(
            401,
            "not authenticated: log in at /auth/token or send an API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
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
    return HTTPException(403, f"not allowed: {why}")


def access(read: frozenset[str], write: frozenset[str]) -> Callable[..., Awaitable[Principal]]:
    """A router's rule: these roles may read (GET), those may change (anything else)."""

    async def check(request: Request, principal: PrincipalDep) -> Principal:
        allowed = read if request.method in SAFE_METHODS else write
        if principal.role not in allowed:
            raise await run_in_threadpool(refuse, request, principal, f"role {principal.role}")
        return principal

    return check

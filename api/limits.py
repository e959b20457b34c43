"""Requests bounded before they are read: an ASGI middleware in front of every route.

1. A request that carries a body to a route that needs a caller is authenticated first, from its
   headers and cookies alone (api/auth.py `resolve`): without a valid credential it gets its 401
   (or the cookie's CSRF 403) before one byte of the body is read, spooled or parsed.
2. Each route has a body limit (`BodyLimits`). A `Content-Length` over it is answered 413 at
   once; a body without one (chunked) is counted while it is read and cut off with a 413 as soon
   as it passes the limit. Attachment uploads therefore stop at the attachment limit (plus the
   multipart envelope), never spooling more to disk.

FastAPI's own `max_body_size` takes fixed numbers in the route decorators; ours come from the
settings (the attachment limit is one) and share the place where authentication runs first."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import orjson
from fastapi import HTTPException
from starlette.requests import HTTPConnection
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import NOT_AUTHENTICATED, resolve

KIB = 1024
# What a multipart upload adds around its file: boundaries, part headers, the actor field.
MULTIPART_ENVELOPE = 64 * KIB
LOGIN_FORM = 16 * KIB
# Routes anyone may call (they check their callers themselves, or need none).
OPEN_ROUTES = frozenset({"/health", "/auth/token", "/console/login", "/console/logout"})


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body too large: the limit is {limit} bytes")


@dataclass(frozen=True)
class BodyLimits:
    """Bytes a request body may have, by route path as declared (`/tickets/{ticket_id}/...`);
    the paths are matched here (the router's own structures are FastAPI's internals)."""

    default: int
    routes: dict[str, int] = field(default_factory=dict)
    _patterns: list[tuple[re.Pattern[str], str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        paths = [*self.routes, *OPEN_ROUTES]
        object.__setattr__(self, "_patterns", [(compile_path(p)[0], p) for p in paths])

    def route_of(self, path: str) -> str | None:
        """The declared path of a route named here, or None for every other route."""
        for pattern, declared in self._patterns:
            if pattern.match(path):
                return declared
        return None

    def of(self, route: str | None) -> int:
        return self.routes.get(route or "", self.default)


def _json(status: int, detail: str, headers: dict[str, str] | None = None) -> list[Message]:
    body = orjson.dumps({"detail": detail})
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        # The rest of the body is never read: the connection cannot carry another request.
        (b"connection", b"close"),
    ]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return [
        {"type": "http.response.start", "status": status, "headers": raw},
        {"type": "http.response.body", "body": body},
    ]


class RequestGate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limits: BodyLimits = scope["app"].state.body_limits
        route = limits.route_of(scope["path"])
        limit = limits.of(route)
        connection = HTTPConnection(scope)
        length_header = connection.headers.get("content-length")
        try:
            length = int(length_header) if length_header is not None else None
        except ValueError:
            length = None
        chunked = "chunked" in connection.headers.get("transfer-encoding", "").lower()
        has_body = (length or 0) > 0 or (length is None and chunked)
        if has_body and route not in OPEN_ROUTES:
            refusal = await self._authenticate(connection, scope)
            if refusal is not None:
                for message in refusal:
                    await send(message)
                return
        if length is not None and length > limit:
            for message in _json(413, str(BodyTooLarge(limit).detail)):
                await send(message)
            return

        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge as error:  # raised where no route handler turned it into a 413
            if started:
                raise
            for message in _json(413, str(error.detail)):
                await send(message)

    async def _authenticate(self, connection: HTTPConnection, scope: Scope) -> list[Message] | None:
        """None when the caller is known (kept for the route's own check), else the answer."""
        try:
            principal = await resolve(connection)
        except HTTPException as error:
            return _json(error.status_code, str(error.detail))
        if principal is None:
            return _json(401, NOT_AUTHENTICATED, {"WWW-Authenticate": "Bearer"})
        scope.setdefault("state", {})["principal"] = principal
        return None

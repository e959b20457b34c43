"""Security headers on every answer, and attachment downloads.

- `Content-Security-Policy`: the console loads scripts, styles, images and connections from its
  own origin only (no inline script, no CDN), may not be framed (`frame-ancestors 'none'`, and
  `X-Frame-Options: DENY` for older browsers), and posts forms only to itself. Uploaded files are
  served under a sandbox policy that runs nothing.
- `X-Content-Type-Options: nosniff`: a browser takes the declared type, never a guessed one.
- `Cache-Control: no-store` on everything but the console's static files: pages and JSON carry
  personal data (requesters, phone numbers) that must not stay in shared or browser caches.
- `Referrer-Policy: same-origin`: ticket and device ids in our URLs do not leave the site."""

from __future__ import annotations

from urllib.parse import quote

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONSOLE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
UPLOAD_POLICY = "default-src 'none'; img-src 'self'; sandbox; frame-ancestors 'none'"
CACHED = ("/console/static/",)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        policy = UPLOAD_POLICY if path.startswith("/attachments/") else CONSOLE_POLICY
        cached = path.startswith(CACHED)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = policy
                headers["X-Frame-Options"] = "DENY"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                if not cached:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)


def download(filename: str) -> str:
    """`Content-Disposition` for a file to save, never to show in our origin (RFC 6266): an
    ASCII stand-in for old clients and the real name in UTF-8 (RFC 5987), so `电梯_照片.png`
    downloads under its name."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"

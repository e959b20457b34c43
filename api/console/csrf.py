"""CSRF defences of the two console forms that work without the X-Facility-Console header:
logging in and logging out.

- Login: a random token in a cookie of its own and in the form (double submit, OWASP's
  pre-session token), so another site cannot log a browser into an account of its choosing.
- Logout: an HMAC of the session under the service's secret, in the page's logout form, so
  another site cannot end a control-room screen's session.
- Both: a request whose `Origin` is another site's is refused whatever it carries."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from api.auth import Principal, Tokens

LOGIN_COOKIE = "facility_login"


def same_origin(request: Request) -> bool:
    """No Origin (old browsers, curl) passes; one that names another site does not."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin in (f"{request.url.scheme}://{host}", f"https://{host}", f"http://{host}")


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def set_login_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def login_token_ok(request: Request, sent: str) -> bool:
    kept = request.cookies.get(LOGIN_COOKIE, "")
    return bool(kept) and hmac.compare_digest(kept, sent) and same_origin(request)


def logout_token(request: Request, principal: Principal | None) -> str:
    """Empty for a caller without a session (an API key opening a page has none to end)."""
    if principal is None or principal.session_id is None:
        return ""
    tokens: Tokens = request.app.state.tokens
    message = f"logout:{principal.session_id}".encode()
    return hmac.new(tokens.secret.encode(), message, hashlib.sha256).hexdigest()


def logout_token_ok(request: Request, principal: Principal, sent: str) -> bool:
    expected = logout_token(request, principal)
    return bool(expected) and hmac.compare_digest(expected, sent) and same_origin(request)

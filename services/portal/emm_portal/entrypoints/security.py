"""What keeps a signed-in browser safe: the session cookie, CSRF checks on every form, security
headers on every response, and an access log that never prints a path's token or a query string."""

from __future__ import annotations

import base64
import hmac
import logging
import secrets
import time
from typing import Any

from fastapi import Request
from starlette.requests import HTTPConnection

from emm_portal.adapters.session_cookie import CookieCodec
from emm_portal.domain.visitor import Visitor

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    # The sign-in link and invitation tokens are in addresses: no page may pass them on as a referrer.
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
UNLOGGED_PREFIXES = ("/static/", "/healthz", "/readyz", "/metrics")

access_log = logging.getLogger("emm_portal.access")


# -- CSRF -------------------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def masked_csrf(secret: str) -> str:
    """The form field for `secret`, different on every page (a random mask XOR the secret), so a
    compressed page does not repeat the same secret a BREACH-style attack could guess at."""
    raw = secret.encode()
    mask = secrets.token_bytes(len(raw))
    return _b64(mask + bytes(a ^ b for a, b in zip(mask, raw)))


def csrf_matches(secret: str, given: str | None) -> bool:
    """True if `given` is a masked form of `secret`."""
    if not given or not secret:
        return False
    try:
        data = _unb64(given)
    except (ValueError, TypeError):
        return False
    half = len(data) // 2
    if len(data) != 2 * len(secret.encode()):
        return False
    unmasked = bytes(a ^ b for a, b in zip(data[:half], data[half:]))
    return hmac.compare_digest(unmasked, secret.encode())


def origin_allowed(origin: str | None, allowed: set[str]) -> bool:
    """A request that names its origin must come from us. Without one, or with "null" (what a
    browser sends on a form post from a page with Referrer-Policy: no-referrer, as ours), the
    token decides; the SameSite=Lax cookie is not sent with another site's post anyway."""
    return origin is None or origin == "null" or origin.rstrip("/") in allowed


class CsrfRefused(Exception):
    """A form without this browser's CSRF token, or sent from another site."""


async def check_csrf(request: Request) -> None:
    """App-wide dependency: every unsafe request carries the token (form field, or header for
    htmx) and, when the browser says where it comes from, comes from the portal's own origin."""
    if request.method not in UNSAFE_METHODS:
        return
    allowed = {request.app.state.settings.public_origin, f"{request.url.scheme}://{request.url.netloc}"}
    if not origin_allowed(request.headers.get("origin"), allowed):
        raise CsrfRefused("origin")
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()
        given = form.get(CSRF_FIELD)
    if not csrf_matches(visitor_of(request).csrf, given if isinstance(given, str) else None):
        raise CsrfRefused("token")


# -- the session cookie -----------------------------------------------------------------------

def visitor_of(request: HTTPConnection) -> Visitor:
    return request.state.visitor


class SessionCookie:
    """ASGI middleware: the Visitor of the request's cookie (a new one if none or invalid) in
    `request.state.visitor`; a route that replaces it gets a new cookie in its response. A new
    visitor's cookie goes only with a page, never with a static file or a probe."""

    def __init__(self, app: Any, codec: CookieCodec, name: str, secure: bool) -> None:
        self.app, self.codec, self.name, self.secure = app, codec, name, secure

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        known = self.codec.decode(HTTPConnection(scope).cookies.get(self.name))
        state = scope.setdefault("state", {})
        state["visitor"] = known or Visitor()

        async def send_with_cookie(message: dict) -> None:
            if message["type"] == "http.response.start":
                visitor = state["visitor"]
                is_page = any(k == b"content-type" and v.startswith(b"text/html")
                              for k, v in message.get("headers", []))
                if visitor != known and (known is not None or is_page or message["status"] in (302, 303)):
                    message = {**message, "headers": [*message.get("headers", []),
                                                      (b"set-cookie", self.header(visitor).encode())]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def header(self, visitor: Visitor) -> str:
        flags = f"Path=/; Max-Age={self.codec.max_age(visitor)}; HttpOnly; SameSite=Lax"
        return f"{self.name}={self.codec.encode(visitor)}; {flags}{'; Secure' if self.secure else ''}"


def cookie_name(secure: bool) -> str:
    # __Host- makes browsers refuse the cookie unless it is Secure, for this host only, on Path=/.
    return "__Host-emm-portal" if secure else "emm-portal"


# -- headers and logs -------------------------------------------------------------------------

class SecurityHeaders:
    """ASGI middleware: the security headers on every response; pages are never cached (they are
    personal), static files say their own cache policy."""

    def __init__(self, app: Any, hsts: bool) -> None:
        self.app = app
        self.headers = SECURITY_HEADERS + ([(b"strict-transport-security", b"max-age=31536000")] if hsts else [])

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), *self.headers]
                if not any(k == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class AccessLog:
    """ASGI middleware: one line per request with the route's template (`/invitations/{token}`),
    never the path itself nor the query string, where sign-in and invitation tokens travel."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNLOGGED_PREFIXES):
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), {}

        async def send_noting_status(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = getattr(scope.get("route"), "path", "(no route)")
            access_log.info("%s %s %s %.0fms", scope["method"], route, status.get("code", 500),
                            (time.perf_counter() - started) * 1000)

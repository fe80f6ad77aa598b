"""The inspector app's web security: response headers, the client's address (with
``X-Forwarded-For`` believed only from ``LIGHTBOX_TRUSTED_PROXIES``), sign-in throttling, the
session and CSRF dependencies, and cookies.

Throttling (OWASP's "device cookie" pattern). Failed sign-ins are counted per (name, address),
per address and per name, in a sliding window; over a limit, sign-in is refused (429) before
any password hashing. A browser that signed in successfully holds a device cookie for that
name (HMAC-signed); its attempts for that name are counted per device instead, so an attacker
who spends an address's or a name's failures (30 random names from one address, say) cannot
lock out the inspectors who sign in from their own browsers. In memory, per process.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
import threading
import time

from fastapi import Depends, Request, Response

from lightbox.inspector import accounts

SESSION_COOKIE = "lb_session"
LOGIN_CSRF_COOKIE = "lb_login_csrf"
DEVICE_COOKIE = "lb_device"
TOO_MANY = "Too many failed sign-ins: wait a few minutes and try again."

_CSP = (b"default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; form-action 'self'; "
        b"base-uri 'none'; frame-ancestors 'none'")
# Swagger UI (the API docs page) loads its script and style from a CDN.
_CSP_DOCS = (b"default-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
             b"script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
             b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; frame-ancestors 'none'")


class SecurityHeaders:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware): CSP, no framing, no
    sniffing, and no caching unless a route says otherwise. A NUL byte anywhere in the path
    or the query is refused (400) before any route sees it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        csp = _CSP_DOCS if scope["path"] == "/api/docs" else _CSP

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = [(b"content-security-policy", csp), (b"x-frame-options", b"DENY"),
                         (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
                if b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers + [h for h in extra if h[0] not in names]}
            await send(message)

        query = scope.get("query_string", b"")
        if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
            from fastapi.responses import PlainTextResponse

            return await PlainTextResponse("Bad request: NUL byte.", status_code=400)(scope, receive, send_with_headers)
        await self.app(scope, receive, send_with_headers)


# --------------------------------------------------------------------------- addresses


def trusted_proxies() -> tuple:
    from lightbox.config import settings

    return settings().trusted_proxies


def _trusted(address: str, proxies) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_address(request: Request) -> str:
    """The client's address. ``X-Forwarded-For`` counts only when the peer is a trusted
    proxy; then the client is the last hop that no trusted proxy vouches for."""
    peer = request.client.host if request.client else "?"
    proxies = request.app.state.trusted_proxies
    if not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop[:64]
    return hops[0][:64] if hops else peer


def is_https(request: Request) -> bool:
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else "?"
    return _trusted(peer, request.app.state.trusted_proxies) and request.headers.get("x-forwarded-proto") == "https"


# --------------------------------------------------------------------------- throttling


class SignInThrottle:
    def __init__(self, per_name: int = 5, per_address: int = 30, per_name_anywhere: int = 50,
                 window_s: float = 300.0, key: bytes | None = None):
        self.per_name, self.per_address, self.per_name_anywhere = per_name, per_address, per_name_anywhere
        self.window_s = window_s
        secret = os.environ.get("LIGHTBOX_INSPECTOR_SECRET")
        self._key = key or (hashlib.sha256(secret.encode()).digest() if secret else secrets.token_bytes(32))
        self._failures: dict[tuple, list[float]] = {}
        self._lock = threading.Lock()

    # device cookies
    def device_cookie(self, name: str) -> str:
        nonce = secrets.token_urlsafe(12)
        return f"{nonce}.{self._sign(name, nonce)}"

    def _sign(self, name: str, nonce: str) -> str:
        return hmac.new(self._key, f"{name.lower()}\0{nonce}".encode(), hashlib.sha256).hexdigest()[:32]

    def device_of(self, name: str, cookie: str | None) -> str | None:
        """The device id of a valid device cookie for ``name``, else None."""
        if not cookie or "." not in cookie or len(cookie) > 200:
            return None
        nonce, _, mac = cookie.partition(".")
        return nonce if hmac.compare_digest(mac, self._sign(name, nonce)) else None

    def _recent(self, key: tuple, now: float) -> int:
        times = [t for t in self._failures.get(key, []) if now - t < self.window_s]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        return len(times)

    def _keys(self, name: str, address: str, device: str | None) -> list[tuple]:
        if device:
            return [("d", device)]
        return [("n", name.lower(), address), ("a", address), ("g", name.lower())]

    def allowed(self, name: str, address: str, device: str | None = None) -> bool:
        now = time.monotonic()
        limits = {"d": self.per_name, "n": self.per_name, "a": self.per_address, "g": self.per_name_anywhere}
        with self._lock:
            return all(self._recent(k, now) < limits[k[0]] for k in self._keys(name, address, device))

    def failed(self, name: str, address: str, device: str | None = None) -> None:
        now = time.monotonic()
        with self._lock:
            for key in self._keys(name, address, device):
                self._failures.setdefault(key, []).append(now)

    def succeeded(self, name: str, address: str, device: str | None = None) -> None:
        with self._lock:
            for key in self._keys(name, address, device)[:1]:
                self._failures.pop(key, None)


# --------------------------------------------------------------------------- sessions


class LoginRequired(Exception):
    pass


class CsrfRefused(Exception):
    pass


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def current_session(request: Request) -> accounts.Session:
    """The signed-in inspector's session; every protected route depends on it."""
    token = request.cookies.get(SESSION_COOKIE)
    session = None
    if token:
        with request.app.state.pool.connection() as conn:
            session = accounts.lookup_session(conn, token)
    if session is None:
        raise LoginRequired()
    request.state.session = session
    request.state.session_digest = accounts.session_digest(token)
    return session


def connection(request: Request):
    """A pooled connection presenting the request's session to the database."""
    return request.app.state.pool.connection(getattr(request.state, "session_digest", None))


async def require_csrf_header(request: Request, session: accounts.Session = Depends(current_session)) -> accounts.Session:
    if not accounts.csrf_ok(session, request.headers.get("x-csrf-token")):
        raise CsrfRefused()
    return session


def check_form_csrf(session: accounts.Session, token: str | None) -> None:
    if not accounts.csrf_ok(session, token):
        raise CsrfRefused()


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="lax", secure=is_https(request), path="/",
    )


def sign_in(request: Request, name: str, password: str) -> tuple[accounts.Session | None, bool]:
    """(session or None, throttled?) for a sign-in attempt, with the throttle's bookkeeping."""
    throttle: SignInThrottle = request.app.state.throttle
    address = client_address(request)
    device = throttle.device_of(name, request.cookies.get(DEVICE_COOKIE))
    if not throttle.allowed(name, address, device):
        return None, True
    with request.app.state.pool.connection() as conn:
        session = accounts.sign_in(conn, name, password)
    if session is None:
        throttle.failed(name, address, device)
    else:
        throttle.succeeded(name, address, device)
    return session, False


def start_session(request: Request, response: Response, session: accounts.Session) -> None:
    """The cookies of a new session: the session itself and the device cookie."""
    set_cookie(request, response, SESSION_COOKIE, session.token, int(accounts.session_hours() * 3600))
    set_cookie(request, response, DEVICE_COOKIE, request.app.state.throttle.device_cookie(session.inspector_id),
               400 * 24 * 3600)

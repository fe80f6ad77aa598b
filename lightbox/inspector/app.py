"""The inspector web app: the scored review queue as pages (sign-in, queue, photo, decide,
my history) and as a JSON API (``/api/…``, documented at ``/api/docs`` and ``/openapi.json``).

It runs as its own process (``lightbox inspector serve``, or ``serve(port)`` which
``lightbox up`` calls), not as an Airflow plugin: inspectors are not Airflow users and must
not need Airflow accounts or see the Airflow UI; the app runs under its own least-privilege
database role; it restarts and scales independently of the Airflow API server; and it does
not depend on Airflow's plugin and auth-manager interfaces. See ``commands.py``.

Database access. With ``LIGHTBOX_INSPECTOR_DATABASE_URL`` set (the cluster: a login role
that is a member of ``inspector_app``), the app connects with it. Otherwise it connects with
the warehouse URL (``LIGHTBOX_DATABASE_URL`` or the embedded server) and, when the role
``inspector_app`` exists (``lightbox/schema/80_inspector.sql`` creates it) and the URL's user
may use it, runs ``set role inspector_app`` on every connection, so the app can do only what
that role is granted. If it cannot (a server where the role is missing or the user is not a
member), it logs a warning and keeps the URL's own rights; ``app.state.db_role`` says which.
Tests pass ``create_app(database_url=…)``.

Security. No page or API call works without a signed-in session (a router-wide dependency;
only ``/login``, ``/static`` and ``/healthz`` are public). Passwords are argon2id. The
session cookie is HttpOnly, SameSite=Lax, and Secure when the request came over https.
Every form carries the session's CSRF token; every API write sends it in ``X-CSRF-Token``.
The sign-in form has its own double-submit token; failed sign-ins are throttled per name
and client address. SQL is parameterised throughout.
Responses carry a strict Content-Security-Policy (no inline script) and frame denial.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import queue as queue_module
import secrets
import threading
import time
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.exceptions import HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field

from lightbox.inspector import accounts, images
from lightbox.inspector import queue as q

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
SESSION_COOKIE = "lb_session"
LOGIN_CSRF_COOKIE = "lb_login_csrf"
APP_ROLE = "inspector_app"
NOTICES = {
    "decided": "Decision saved. Here is the next photo.",
    "empty": "Nothing is waiting in the queue (with these filters).",
    "done": "Decision saved. The queue is empty: well done.",
    "released": "Photo released back to the queue.",
    "signed_out": "You are signed out.",
}


# --------------------------------------------------------------------------- database


class ConnectionPool:
    """A small blocking pool of psycopg2 connections, each switched to the app's role."""

    def __init__(self, url: str, role: str | None = APP_ROLE, size: int = 12):
        self.url = url
        self.role = role
        self.size = size
        self._idle: queue_module.LifoQueue = queue_module.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._all: list = []
        self.active_role: str | None = None  # the role the connections run as, once known

    def _connect(self):
        import psycopg2
        from psycopg2 import sql

        conn = psycopg2.connect(self.url, application_name="lightbox-inspector")
        with conn.cursor() as cur:
            cur.execute("select current_user")
            current = cur.fetchone()[0]
            role = current
            if self.role and self.role != current:
                cur.execute(
                    "select exists (select 1 from pg_roles where rolname = %s) and pg_has_role(current_user, %s, 'member')",
                    (self.role, self.role),
                )
                if cur.fetchone()[0]:
                    cur.execute(sql.SQL("set role {}").format(sql.Identifier(self.role)))
                    role = self.role
                elif self.active_role is None:
                    log.warning("role %s is missing or not granted to %s: the inspector app runs as %s",
                                self.role, current, current)
        conn.commit()  # a SET inside a rolled-back transaction would be undone
        # Autocommit: each queue operation is one atomic statement string, one round trip.
        conn.autocommit = True
        self.active_role = role
        self._all.append(conn)
        return conn

    @contextlib.contextmanager
    def connection(self):
        if not self._slots.acquire(timeout=30):
            raise HTTPException(503, "The database is busy; try again.")
        conn = None
        try:
            try:
                conn = self._idle.get_nowait()
            except queue_module.Empty:
                conn = self._connect()
            yield conn
        finally:
            if conn is not None:
                self._put_back(conn)
            self._slots.release()

    def _put_back(self, conn) -> None:
        import psycopg2.extensions as ext

        try:
            if not conn.closed and conn.get_transaction_status() != ext.TRANSACTION_STATUS_IDLE:
                conn.rollback()
        except Exception:  # noqa: BLE001 - a broken connection is dropped below
            pass
        if conn.closed:
            with contextlib.suppress(ValueError):
                self._all.remove(conn)
            return
        self._idle.put(conn)

    def close(self) -> None:
        for conn in list(self._all):
            with contextlib.suppress(Exception):
                conn.close()
        self._all.clear()


# --------------------------------------------------------------------------- headers

_CSP = ("default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'").encode()
# Swagger UI (the API docs page) loads its script and style from a CDN.
_CSP_DOCS = ("default-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
             "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
             "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; frame-ancestors 'none'").encode()


class SecurityHeaders:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware): CSP, no framing, no
    sniffing, and no caching unless a route says otherwise."""

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

        await self.app(scope, receive, send_with_headers)


# --------------------------------------------------------------------------- auth


class SignInThrottle:
    """Failed sign-ins per (name, client address) and per address in a sliding window; over
    the limit, sign-in is refused (429) before any password hashing. In memory, per
    process: it slows guessing down, it is not an account lock-out."""

    def __init__(self, per_name: int = 5, per_address: int = 30, window_s: float = 300.0):
        self.per_name, self.per_address, self.window_s = per_name, per_address, window_s
        self._failures: dict[tuple, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple, now: float) -> list[float]:
        times = [t for t in self._failures.get(key, []) if now - t < self.window_s]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        return times

    def allowed(self, name: str, address: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return (len(self._recent(("n", name.lower(), address), now)) < self.per_name
                    and len(self._recent(("a", address), now)) < self.per_address)

    def failed(self, name: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (("n", name.lower(), address), ("a", address)):
                self._failures.setdefault(key, []).append(now)

    def succeeded(self, name: str, address: str) -> None:
        with self._lock:
            self._failures.pop(("n", name.lower(), address), None)


TOO_MANY = "Too many failed sign-ins: wait a few minutes and try again."


def _address(request: Request) -> str:
    return request.client.host if request.client else "?"


class LoginRequired(Exception):
    pass


class CsrfRefused(Exception):
    pass


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def current_session(request: Request) -> accounts.Session:
    """The signed-in inspector's session; every protected route depends on it."""
    token = request.cookies.get(SESSION_COOKIE)
    pool: ConnectionPool = request.app.state.pool
    session = None
    if token:
        with pool.connection() as conn:
            session = accounts.lookup_session(conn, token)
    if session is None:
        raise LoginRequired()
    request.state.session = session
    return session


async def require_csrf_header(request: Request, session: accounts.Session = Depends(current_session)) -> accounts.Session:
    if not accounts.csrf_ok(session, request.headers.get("x-csrf-token")):
        raise CsrfRefused()
    return session


def _check_form_csrf(session: accounts.Session, token: str | None) -> None:
    if not accounts.csrf_ok(session, token):
        raise CsrfRefused()


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="lax",
        secure=request.url.scheme == "https", path="/",
    )


# --------------------------------------------------------------------------- API models


class LoginBody(BaseModel):
    name: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class ClaimNextBody(BaseModel):
    category: str | None = Field(default=None, max_length=200, description="claim only from this category")


class PhotoBody(BaseModel):
    photo_id: str = Field(max_length=200)


class DecideBody(BaseModel):
    photo_id: str = Field(max_length=200)
    decision: Literal["accepted", "rejected", "changes_required"]
    reason_code: str | None = Field(default=None, description="for 'rejected': one of GET /api/reasons")
    note: str | None = Field(default=None, max_length=2000, description="free text")
    releases: list[Literal["model_release", "property_release"]] = Field(
        default_factory=list, description="for 'changes_required': the releases to ask for")


class ClaimOut(BaseModel):
    photo_id: str | None
    claimed_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    already_held: bool = False
    message: str | None = None


class DecisionOut(BaseModel):
    photo_id: str
    decision: str
    reason: str | None
    decided_at: dt.datetime
    decision_id: int


class SessionOut(BaseModel):
    inspector_id: str
    csrf_token: str = Field(description="send as X-CSRF-Token on every API write")


# --------------------------------------------------------------------------- the app


def create_app(database_url: str | None = None, role: str | None = APP_ROLE, pool_size: int | None = None) -> FastAPI:
    """The app. ``database_url`` defaults to LIGHTBOX_INSPECTOR_DATABASE_URL, else the
    warehouse URL; ``role`` is switched to when possible (None: keep the URL's user)."""
    if database_url is None:
        database_url = os.environ.get("LIGHTBOX_INSPECTOR_DATABASE_URL")
        if not database_url:
            from lightbox import db

            database_url = db.warehouse_url()
    @contextlib.asynccontextmanager
    async def lifespan(app_: FastAPI):
        yield
        app_.state.pool.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Lightbox inspector",
        description="The scored licensing queue for inspectors. Sign in with POST /api/login; "
        "send the returned csrf_token as X-CSRF-Token on every write.",
        version="1.0",
        docs_url=None, redoc_url=None, openapi_url=None,
    )
    app.state.throttle = SignInThrottle()
    app.state.pool = ConnectionPool(database_url, role, size=pool_size or int(os.environ.get("LIGHTBOX_INSPECTOR_POOL", "12")))
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(reject_reasons=q.REJECT_REASONS, releases=q.RELEASES, ages=q.AGES)
    templates.env.filters["ago"] = _ago
    templates.env.filters["pct"] = lambda v: "–" if v is None else f"{float(v) * 100:.0f}%"
    templates.env.filters["yesno"] = lambda v: "–" if v is None else ("yes" if v else "no")
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    app.add_middleware(SecurityHeaders)

    @app.exception_handler(LoginRequired)
    def _login_required(request: Request, exc: LoginRequired):
        if _is_api(request):
            return JSONResponse({"detail": "Sign in first (POST /api/login)."}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(CsrfRefused)
    def _csrf_refused(request: Request, exc: CsrfRefused):
        message = "Refused: missing or wrong CSRF token. Reload the page and try again."
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=403)
        return _message_page(request, message, 403)

    @app.exception_handler(q.QueueError)
    def _queue_error(request: Request, exc: q.QueueError):
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=exc.status_code)
        return _message_page(request, str(exc), exc.status_code)

    def _message_page(request: Request, message: str, status: int):
        session = getattr(request.state, "session", None)
        return templates.TemplateResponse(
            request, "message.html", {"message": message, "session": session, "counts": None}, status_code=status)

    # ----- public

    public = APIRouter()

    @public.get("/healthz", include_in_schema=False)
    def healthz():
        return {"ok": True}

    @public.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "/queue", notice: str | None = None):
        token = secrets.token_urlsafe(24)
        response = templates.TemplateResponse(request, "login.html", {
            "login_csrf": token, "next": _safe_next(next), "error": None, "notice": NOTICES.get(notice or ""),
            "session": None})
        _set_cookie(request, response, LOGIN_CSRF_COOKIE, token, 3600)
        return response

    @public.post("/login", include_in_schema=False)
    def login_submit(request: Request, name: str = Form(""), password: str = Form(""),
                     csrf_token: str = Form(""), next: str = Form("/queue")):
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
        if not cookie or not secrets.compare_digest(cookie.encode(), csrf_token.encode()):
            raise CsrfRefused()
        throttle, address = app.state.throttle, _address(request)
        if not throttle.allowed(name, address):
            return templates.TemplateResponse(request, "login.html", {
                "login_csrf": cookie, "next": _safe_next(next), "error": TOO_MANY, "notice": None,
                "session": None}, status_code=429)
        with app.state.pool.connection() as conn:
            ok = accounts.authenticate(conn, name, password)
            session = accounts.create_session(conn, name) if ok else None
        if session is None:
            throttle.failed(name, address)
            response = templates.TemplateResponse(request, "login.html", {
                "login_csrf": cookie, "next": _safe_next(next), "error": "Wrong name or password.",
                "notice": None, "session": None}, status_code=401)
            return response
        throttle.succeeded(name, address)
        response = RedirectResponse(_safe_next(next), status_code=303)
        _set_cookie(request, response, SESSION_COOKIE, session.token, int(accounts.session_hours() * 3600))
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
        return response

    @public.post("/api/login", response_model=SessionOut, tags=["session"])
    def api_login(request: Request, body: LoginBody):
        """Sign in; sets the session cookie and returns the CSRF token for writes."""
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise HTTPException(415, "Send JSON.")
        throttle, address = app.state.throttle, _address(request)
        if not throttle.allowed(body.name, address):
            return JSONResponse({"detail": TOO_MANY}, status_code=429)
        with app.state.pool.connection() as conn:
            if not accounts.authenticate(conn, body.name, body.password):
                throttle.failed(body.name, address)
                return JSONResponse({"detail": "Wrong name or password."}, status_code=401)
            session = accounts.create_session(conn, body.name)
        throttle.succeeded(body.name, address)
        response = JSONResponse({"inspector_id": session.inspector_id, "csrf_token": session.csrf_token})
        _set_cookie(request, response, SESSION_COOKIE, session.token, int(accounts.session_hours() * 3600))
        return response

    # ----- signed in: pages

    pages = APIRouter(dependencies=[Depends(current_session)], include_in_schema=False)

    def render(request: Request, name: str, context: dict, status: int = 200):
        session = request.state.session
        with app.state.pool.connection() as conn:
            counts = q.queue_counts(conn)
            held = q.held_claim(conn, session.inspector_id)
        context = {"session": session, "counts": counts, "held": held,
                   "notice": NOTICES.get(request.query_params.get("notice") or ""), **context}
        return templates.TemplateResponse(request, name, context, status_code=status)

    @pages.get("/")
    def home():
        return RedirectResponse("/queue", status_code=303)

    @pages.get("/queue", response_class=HTMLResponse)
    def queue_page(request: Request, status: str = "open", category: str = "", ai_decision: str = "",
                   decision: str = "", age: str = "", page: int = 1):
        filters = {"status": status if status in q.STATUSES else "open", "category": category[:200],
                   "ai_decision": ai_decision if ai_decision in q.AI_DECISIONS else "",
                   "decision": decision if decision in q.DECISIONS else "",
                   "age": age if age in q.AGES else ""}
        page = max(1, min(page, 10_000))
        with app.state.pool.connection() as conn:
            rows = q.list_queue(conn, limit=51, offset=(page - 1) * 50, **filters)
            cats = q.categories(conn)
        more = len(rows) > 50
        base = {k: v for k, v in filters.items() if v}
        return render(request, "queue.html", {
            "rows": rows[:50], "filters": filters, "categories": cats, "page": page,
            "prev_url": f"/queue?{urlencode({**base, 'page': page - 1})}" if page > 1 else None,
            "next_url": f"/queue?{urlencode({**base, 'page': page + 1})}" if more else None,
        })

    @pages.post("/claim-next")
    def claim_next_form(request: Request, csrf_token: str = Form(""), category: str = Form("")):
        session = request.state.session
        _check_form_csrf(session, csrf_token)
        with app.state.pool.connection() as conn:
            claim = q.claim_next(conn, session.inspector_id, category=category[:200] or None)
        if claim is None:
            return RedirectResponse("/queue?" + urlencode({"notice": "empty", "category": category}), status_code=303)
        return RedirectResponse(_photo_url(claim.photo_id, category), status_code=303)

    @pages.get("/photos/{photo_id}", response_class=HTMLResponse)
    def photo_page(request: Request, photo_id: str, category: str = ""):
        session = request.state.session
        with app.state.pool.connection() as conn:
            item = q.photo_detail(conn, photo_id)
        mine = item["status"] == "claimed" and item["claimed_by"] == session.inspector_id
        return render(request, "photo.html", {"item": item, "mine": mine, "category": category[:200],
                                              "suggested_releases": _suggested_releases(item.get("photo") or {})})

    @pages.post("/photos/{photo_id}/claim")
    def claim_form(request: Request, photo_id: str, csrf_token: str = Form(""), category: str = Form("")):
        session = request.state.session
        _check_form_csrf(session, csrf_token)
        with app.state.pool.connection() as conn:
            q.claim_photo(conn, session.inspector_id, photo_id)
        return RedirectResponse(_photo_url(photo_id, category), status_code=303)

    @pages.post("/photos/{photo_id}/decide")
    def decide_form(request: Request, photo_id: str, csrf_token: str = Form(""), decision: str = Form(""),
                    reason_code: str = Form(""), note: str = Form(""), releases: list[str] = Form([]),
                    category: str = Form("")):
        session = request.state.session
        _check_form_csrf(session, csrf_token)
        with app.state.pool.connection() as conn:
            q.decide(conn, session.inspector_id, photo_id, decision, reason_code or None, note, releases)
            claim = q.claim_next(conn, session.inspector_id, category=category[:200] or None)
        if claim is None:
            return RedirectResponse("/queue?notice=done", status_code=303)
        return RedirectResponse(_photo_url(claim.photo_id, category, notice="decided"), status_code=303)

    @pages.post("/photos/{photo_id}/release")
    def release_form(request: Request, photo_id: str, csrf_token: str = Form("")):
        session = request.state.session
        _check_form_csrf(session, csrf_token)
        with app.state.pool.connection() as conn:
            q.release(conn, session.inspector_id, photo_id)
        return RedirectResponse("/queue?notice=released", status_code=303)

    @pages.get("/history", response_class=HTMLResponse)
    def history_page(request: Request):
        with app.state.pool.connection() as conn:
            rows = q.my_history(conn, request.state.session.inspector_id, limit=200)
        return render(request, "history.html", {"rows": rows})

    @pages.post("/logout")
    def logout(request: Request, csrf_token: str = Form("")):
        _check_form_csrf(request.state.session, csrf_token)
        with app.state.pool.connection() as conn:
            accounts.end_session(conn, request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login?notice=signed_out", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @pages.get("/photos/{photo_id}/thumb.jpg")
    def thumb(photo_id: str, size: Literal["thumb", "display"] = "thumb"):
        with app.state.pool.connection() as conn:
            path, sha256 = q.image_path(conn, photo_id)
        try:
            data = images.rendition(path, size, sha256)
        except (FileNotFoundError, ValueError, OSError) as exc:
            log.warning("image of %s: %s", photo_id, exc)
            raise q.NotFound(f"The image of photo {photo_id} cannot be read.") from exc
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})

    @pages.get("/photos/{photo_id}/image")
    def full_image(photo_id: str):
        with app.state.pool.connection() as conn:
            path, sha256 = q.image_path(conn, photo_id)
        try:
            data, mime = images.original(path, sha256)
        except (FileNotFoundError, ValueError, OSError) as exc:
            log.warning("image of %s: %s", photo_id, exc)
            raise q.NotFound(f"The image of photo {photo_id} cannot be read.") from exc
        return Response(data, media_type=mime, headers={"Cache-Control": "private, max-age=86400"})

    @pages.get("/api/docs")
    def api_docs():
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Lightbox inspector API")

    # ----- signed in: JSON API

    api = APIRouter(prefix="/api", dependencies=[Depends(current_session)])

    @api.get("/me", response_model=SessionOut, tags=["session"])
    def api_me(request: Request):
        """Who is signed in, and the CSRF token to send with writes."""
        s = request.state.session
        return {"inspector_id": s.inspector_id, "csrf_token": s.csrf_token}

    @api.post("/logout", tags=["session"], dependencies=[Depends(require_csrf_header)])
    def api_logout(request: Request):
        with app.state.pool.connection() as conn:
            accounts.end_session(conn, request.cookies.get(SESSION_COOKIE))
        response = JSONResponse({"signed_out": True})
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @api.get("/queue", tags=["queue"])
    def api_queue(status: Literal["open", "pending", "claimed", "decided", "all"] = "open",
                  category: str | None = None,
                  ai_decision: Literal["under_review", "changes_required", "not_suitable", "removed"] | None = None,
                  decision: Literal["accepted", "rejected", "changes_required"] | None = None,
                  age: Literal["1d", "7d", "older7d", "older30d"] | None = None,
                  limit: int = 50, offset: int = 0):
        """The queue by priority (decided: newest first), with filters."""
        with app.state.pool.connection() as conn:
            rows = q.list_queue(conn, status=status, category=category, ai_decision=ai_decision,
                                decision=decision, age=age, limit=limit, offset=offset)
            counts = q.queue_counts(conn)
        return {"counts": counts, "items": rows}

    @api.get("/photos/{photo_id}", tags=["queue"])
    def api_photo(photo_id: str):
        """One queued photo: scores, reasons, metadata, releases, photographer's history."""
        with app.state.pool.connection() as conn:
            item = q.photo_detail(conn, photo_id)
        item.get("photo", {}).pop("image_path", None)
        return item

    @api.post("/claim-next", response_model=ClaimOut, tags=["claims"], dependencies=[Depends(require_csrf_header)])
    def api_claim_next(request: Request, body: ClaimNextBody | None = None):
        """Claim the highest-priority pending photo (or get the one you hold)."""
        with app.state.pool.connection() as conn:
            claim = q.claim_next(conn, request.state.session.inspector_id, category=(body.category if body else None))
        if claim is None:
            return ClaimOut(photo_id=None, message="Nothing is pending.")
        return ClaimOut(photo_id=claim.photo_id, claimed_at=claim.claimed_at, expires_at=claim.expires_at,
                        already_held=claim.already_held)

    @api.post("/claim", response_model=ClaimOut, tags=["claims"], dependencies=[Depends(require_csrf_header)])
    def api_claim(request: Request, body: PhotoBody):
        """Claim one named photo."""
        with app.state.pool.connection() as conn:
            claim = q.claim_photo(conn, request.state.session.inspector_id, body.photo_id)
        return ClaimOut(photo_id=claim.photo_id, claimed_at=claim.claimed_at, expires_at=claim.expires_at,
                        already_held=claim.already_held)

    @api.post("/decide", response_model=DecisionOut, tags=["claims"], dependencies=[Depends(require_csrf_header)],
              responses={409: {"description": "you do not hold the photo (another inspector does, your claim expired, or it is decided)"}})
    def api_decide(request: Request, body: DecideBody):
        """Decide on a photo you hold: accepted; rejected with reason_code (+ note);
        changes_required with releases (+ note)."""
        with app.state.pool.connection() as conn:
            return q.decide(conn, request.state.session.inspector_id, body.photo_id, body.decision,
                            body.reason_code, body.note, body.releases)

    @api.post("/release", tags=["claims"], dependencies=[Depends(require_csrf_header)])
    def api_release(request: Request, body: PhotoBody):
        """Give a photo you hold back to the queue."""
        with app.state.pool.connection() as conn:
            q.release(conn, request.state.session.inspector_id, body.photo_id)
        return {"photo_id": body.photo_id, "released": True}

    @api.get("/history", tags=["queue"])
    def api_history(request: Request, limit: int = 100):
        """Your own decisions, newest first."""
        with app.state.pool.connection() as conn:
            return {"items": q.my_history(conn, request.state.session.inspector_id, limit=limit)}

    @api.get("/reasons", tags=["queue"])
    def api_reasons():
        """The rejection reasons and the releases a decision can name."""
        return {"reject_reasons": q.REJECT_REASONS, "releases": q.RELEASES}

    @pages.get("/openapi.json")
    def openapi_json():
        return JSONResponse(app.openapi())

    app.include_router(public)
    app.include_router(pages)
    app.include_router(api)
    return app


def _safe_next(target: str | None) -> str:
    """Only a local path (no scheme, no //host) is a redirect target after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/queue"
    return target


def _photo_url(photo_id: str, category: str = "", notice: str | None = None) -> str:
    params = {k: v for k, v in {"category": category, "notice": notice}.items() if v}
    return f"/photos/{quote(photo_id, safe='')}" + (f"?{urlencode(params)}" if params else "")


def _suggested_releases(photo: dict) -> list[str]:
    out = []
    if photo.get("has_people") and not photo.get("model_release"):
        out.append("model_release")
    if photo.get("has_property") and not photo.get("property_release"):
        out.append("property_release")
    return out


def _ago(value) -> str:
    if value is None:
        return "–"
    seconds = (dt.datetime.now(dt.timezone.utc) - value).total_seconds()
    if seconds < 0:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def serve(port: int = 8090, host: str = "127.0.0.1") -> None:
    """Run the app with uvicorn until interrupted (``lightbox inspector serve``, ``lightbox up``)."""
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, proxy_headers=True, log_level="info")

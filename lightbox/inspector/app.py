"""The inspector web app: the scored review queue as pages (sign-in, queue, photo, decide,
my history) and as a JSON API (``/api/…``, documented at ``/api/docs`` and ``/openapi.json``).

It runs as its own process (``lightbox inspector serve``, or ``serve(port)`` which
``lightbox up`` calls), not as an Airflow plugin: inspectors are not Airflow users and must
not need Airflow accounts or see the Airflow UI; the app runs under its own least-privilege
database login; it restarts and scales independently of the Airflow API server; and it does
not depend on Airflow's plugin and auth-manager interfaces. See ``commands.py``.

The parts: ``pool`` (database connections as the app's login role, never a superuser, each
presenting the request's session), ``security`` (headers, client address, throttling,
sessions, CSRF), and the routers ``routes_public`` (health, sign-in), ``routes_pages``
(the pages) and ``routes_api`` (the JSON API). This module assembles them.

Security. No page or API call works without a signed-in session (a router-wide dependency;
only ``/login``, ``/static`` and ``/healthz`` are public). Passwords are argon2id, and the
app's role cannot read their hashes. The session cookie is HttpOnly, SameSite=Lax, and Secure
over https. Every form carries the session's CSRF token; every API write sends it in
``X-CSRF-Token``. The sign-in form has its own double-submit token; failed sign-ins are
throttled (``security.SignInThrottle``). SQL is parameterised throughout; bad parameters are
4xx. Responses carry a strict Content-Security-Policy (no inline script) and frame denial.
docs/security.md has the threat model.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from lightbox.inspector import pool, routes_api, routes_pages, routes_public
from lightbox.inspector import queue as q
from lightbox.inspector.security import (
    CsrfRefused,
    LoginRequired,
    SecurityHeaders,
    SignInThrottle,
    is_api,
    trusted_proxies,
)

log = logging.getLogger(__name__)

HERE = Path(__file__).parent


def create_app(database_url: str | None = None, pool_size: int | None = None) -> FastAPI:
    """The app. ``database_url`` defaults to LIGHTBOX_INSPECTOR_DATABASE_URL, else the
    warehouse URL with the app's login role (``pool.database_url``)."""
    url = database_url or pool.database_url()

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
    app.state.trusted_proxies = trusted_proxies()
    app.state.pool = pool.ConnectionPool(url, size=pool_size or int(os.environ.get("LIGHTBOX_INSPECTOR_POOL", "12")))
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(reject_reasons=q.REJECT_REASONS, releases=q.RELEASES, ages=q.AGES)
    templates.env.filters["ago"] = _ago
    templates.env.filters["pct"] = lambda v: "–" if v is None else f"{float(v) * 100:.0f}%"
    templates.env.filters["yesno"] = lambda v: "–" if v is None else ("yes" if v else "no")
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(SecurityHeaders)
    _add_error_handlers(app)
    app.include_router(routes_public.router)
    app.include_router(routes_pages.router)
    app.include_router(routes_api.router)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    def message_page(request: Request, message: str, status: int):
        session = getattr(request.state, "session", None)
        return request.app.state.templates.TemplateResponse(
            request, "message.html", {"message": message, "session": session, "counts": None}, status_code=status)

    def reply(request: Request, message: str, status: int):
        if is_api(request):
            return JSONResponse({"detail": message}, status_code=status)
        return message_page(request, message, status)

    @app.exception_handler(LoginRequired)
    def _login_required(request: Request, exc: LoginRequired):
        if is_api(request):
            return JSONResponse({"detail": "Sign in first (POST /api/login)."}, status_code=401)
        from urllib.parse import quote

        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(CsrfRefused)
    def _csrf_refused(request: Request, exc: CsrfRefused):
        return reply(request, "Refused: missing or wrong CSRF token. Reload the page and try again.", 403)

    @app.exception_handler(q.QueueError)
    def _queue_error(request: Request, exc: q.QueueError):
        return reply(request, str(exc), exc.status_code)

    @app.exception_handler(ValueError)
    def _bad_value(request: Request, exc: ValueError):
        # psycopg2 refuses a NUL byte in a string parameter before sending it
        if "NUL" in str(exc):
            return reply(request, "Bad parameter: NUL byte.", 400)
        log.exception("unexpected error", exc_info=exc)
        return reply(request, "Internal error.", 500)

    import psycopg2

    @app.exception_handler(psycopg2.DataError)
    def _data_error(request: Request, exc: psycopg2.DataError):
        return reply(request, "Bad parameter: out of range or malformed.", 400)


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
    """Run the app with uvicorn until interrupted (``lightbox inspector serve``, ``lightbox up``).
    uvicorn's own proxy-header handling is off: the app believes ``X-Forwarded-For`` only from
    ``LIGHTBOX_TRUSTED_PROXIES`` (``security.client_address``)."""
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, proxy_headers=False, log_level="info")

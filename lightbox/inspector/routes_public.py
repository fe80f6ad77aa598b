"""The inspector app's public routes: health, the sign-in page and the API sign-in."""
from __future__ import annotations

import secrets

from fastapi import APIRouter, Form, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from lightbox.inspector import security
from lightbox.inspector.security import LOGIN_CSRF_COOKIE, TOO_MANY, CsrfRefused

router = APIRouter()

NOTICES = {
    "decided": "Decision saved. Here is the next photo.",
    "empty": "Nothing is waiting in the queue (with these filters).",
    "done": "Decision saved. The queue is empty: well done.",
    "released": "Photo released back to the queue.",
    "signed_out": "You are signed out.",
}


class LoginBody(BaseModel):
    name: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class SessionOut(BaseModel):
    inspector_id: str
    csrf_token: str = Field(description="send as X-CSRF-Token on every API write")


def safe_next(target: str | None) -> str:
    """Only a local path (no scheme, no //host) is a redirect target after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/queue"
    return target


@router.get("/healthz", include_in_schema=False)
def healthz():
    return {"ok": True}


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str = "/queue", notice: str | None = None):
    token = secrets.token_urlsafe(24)
    response = request.app.state.templates.TemplateResponse(request, "login.html", {
        "login_csrf": token, "next": safe_next(next), "error": None, "notice": NOTICES.get(notice or ""),
        "session": None})
    security.set_cookie(request, response, LOGIN_CSRF_COOKIE, token, 3600)
    return response


@router.post("/login", include_in_schema=False)
def login_submit(request: Request, name: str = Form(""), password: str = Form(""),
                 csrf_token: str = Form(""), next: str = Form("/queue")):
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not cookie or not secrets.compare_digest(cookie.encode(), csrf_token.encode()):
        raise CsrfRefused()
    session, throttled = security.sign_in(request, name, password)
    if session is None:
        return request.app.state.templates.TemplateResponse(request, "login.html", {
            "login_csrf": cookie, "next": safe_next(next), "error": TOO_MANY if throttled else "Wrong name or password.",
            "notice": None, "session": None}, status_code=429 if throttled else 401)
    response = RedirectResponse(safe_next(next), status_code=303)
    security.start_session(request, response, session)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/api/login", response_model=SessionOut, tags=["session"])
def api_login(request: Request, body: LoginBody):
    """Sign in; sets the session cookie and returns the CSRF token for writes."""
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise HTTPException(415, "Send JSON.")
    session, throttled = security.sign_in(request, body.name, body.password)
    if throttled:
        return JSONResponse({"detail": TOO_MANY}, status_code=429)
    if session is None:
        return JSONResponse({"detail": "Wrong name or password."}, status_code=401)
    response = JSONResponse({"inspector_id": session.inspector_id, "csrf_token": session.csrf_token})
    security.start_session(request, response, session)
    return response

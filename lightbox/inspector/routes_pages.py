"""The inspector app's pages (signed in): queue, photo, claim, decide, release, history,
images, and the API documentation page."""
from __future__ import annotations

import logging
from typing import Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from lightbox.inspector import accounts, images
from lightbox.inspector import queue as q
from lightbox.inspector.routes_public import NOTICES
from lightbox.inspector.security import (
    SESSION_COOKIE,
    check_form_csrf,
    connection,
    current_session,
)

log = logging.getLogger(__name__)

router = APIRouter(dependencies=[Depends(current_session)], include_in_schema=False)


def render(request: Request, name: str, context: dict, status: int = 200):
    session = request.state.session
    with connection(request) as conn:
        counts = q.queue_counts(conn)
        held = q.held_claim(conn, session.inspector_id)
    context = {"session": session, "counts": counts, "held": held,
               "notice": NOTICES.get(request.query_params.get("notice") or ""), **context}
    return request.app.state.templates.TemplateResponse(request, name, context, status_code=status)


def photo_url(photo_id: str, category: str = "", notice: str | None = None) -> str:
    params = {k: v for k, v in {"category": category, "notice": notice}.items() if v}
    return f"/photos/{quote(photo_id, safe='')}" + (f"?{urlencode(params)}" if params else "")


def suggested_releases(photo: dict) -> list[str]:
    out = []
    if photo.get("has_people") and not photo.get("model_release"):
        out.append("model_release")
    if photo.get("has_property") and not photo.get("property_release"):
        out.append("property_release")
    return out


@router.get("/")
def home():
    return RedirectResponse("/queue", status_code=303)


@router.get("/queue", response_class=HTMLResponse)
def queue_page(request: Request, status: str = "open", category: str = "", ai_decision: str = "",
               decision: str = "", age: str = "", page: int = 1):
    filters = {"status": status if status in q.STATUSES else "open", "category": category[:200],
               "ai_decision": ai_decision if ai_decision in q.AI_DECISIONS else "",
               "decision": decision if decision in q.DECISIONS else "",
               "age": age if age in q.AGES else ""}
    page = max(1, min(page, 10_000))
    with connection(request) as conn:
        rows = q.list_queue(conn, limit=51, offset=(page - 1) * 50, **filters)
        cats = q.categories(conn)
    more = len(rows) > 50
    base = {k: v for k, v in filters.items() if v}
    return render(request, "queue.html", {
        "rows": rows[:50], "filters": filters, "categories": cats, "page": page,
        "prev_url": f"/queue?{urlencode({**base, 'page': page - 1})}" if page > 1 else None,
        "next_url": f"/queue?{urlencode({**base, 'page': page + 1})}" if more else None,
    })


@router.post("/claim-next")
def claim_next_form(request: Request, csrf_token: str = Form(""), category: str = Form("")):
    session = request.state.session
    check_form_csrf(session, csrf_token)
    with connection(request) as conn:
        claim = q.claim_next(conn, session.inspector_id, category=category[:200] or None)
    if claim is None:
        return RedirectResponse("/queue?" + urlencode({"notice": "empty", "category": category}), status_code=303)
    return RedirectResponse(photo_url(claim.photo_id, category), status_code=303)


@router.get("/photos/{photo_id}", response_class=HTMLResponse)
def photo_page(request: Request, photo_id: str, category: str = ""):
    session = request.state.session
    with connection(request) as conn:
        item = q.photo_detail(conn, photo_id)
    mine = item["status"] == "claimed" and item["claimed_by"] == session.inspector_id
    return render(request, "photo.html", {"item": item, "mine": mine, "category": category[:200],
                                          "suggested_releases": suggested_releases(item.get("photo") or {})})


@router.post("/photos/{photo_id}/claim")
def claim_form(request: Request, photo_id: str, csrf_token: str = Form(""), category: str = Form("")):
    session = request.state.session
    check_form_csrf(session, csrf_token)
    with connection(request) as conn:
        q.claim_photo(conn, session.inspector_id, photo_id)
    return RedirectResponse(photo_url(photo_id, category), status_code=303)


@router.post("/photos/{photo_id}/decide")
def decide_form(request: Request, photo_id: str, csrf_token: str = Form(""), decision: str = Form(""),
                reason_code: str = Form(""), note: str = Form(""), releases: list[str] = Form([]),
                category: str = Form("")):
    session = request.state.session
    check_form_csrf(session, csrf_token)
    with connection(request) as conn:
        q.decide(conn, session.inspector_id, photo_id, decision, reason_code or None, note, releases)
        claim = q.claim_next(conn, session.inspector_id, category=category[:200] or None)
    if claim is None:
        return RedirectResponse("/queue?notice=done", status_code=303)
    return RedirectResponse(photo_url(claim.photo_id, category, notice="decided"), status_code=303)


@router.post("/photos/{photo_id}/release")
def release_form(request: Request, photo_id: str, csrf_token: str = Form("")):
    session = request.state.session
    check_form_csrf(session, csrf_token)
    with connection(request) as conn:
        q.release(conn, session.inspector_id, photo_id)
    return RedirectResponse("/queue?notice=released", status_code=303)


@router.get("/history", response_class=HTMLResponse)
def history_page(request: Request):
    with connection(request) as conn:
        rows = q.my_history(conn, request.state.session.inspector_id, limit=200)
    return render(request, "history.html", {"rows": rows})


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")):
    check_form_csrf(request.state.session, csrf_token)
    with connection(request) as conn:
        accounts.end_session(conn, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login?notice=signed_out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _image(request: Request, photo_id: str, make):
    with connection(request) as conn:
        path, sha256 = q.image_path(conn, photo_id)
    try:
        return make(path, sha256)
    except (FileNotFoundError, ValueError, OSError) as exc:  # MediaError is a ValueError
        log.warning("image of %s: %s", photo_id, exc)
        raise q.NotFound(f"The image of photo {photo_id} cannot be read.") from exc


@router.get("/photos/{photo_id}/thumb.jpg")
def thumb(request: Request, photo_id: str, size: Literal["thumb", "display"] = "thumb"):
    data = _image(request, photo_id, lambda path, sha: images.rendition(path, size, sha))
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


@router.get("/photos/{photo_id}/image")
def full_image(request: Request, photo_id: str):
    data, mime = _image(request, photo_id, images.original)
    return Response(data, media_type=mime, headers={"Cache-Control": "private, max-age=86400"})


@router.get("/api/docs")
def api_docs():
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Lightbox inspector API")


@router.get("/openapi.json")
def openapi_json(request: Request):
    return JSONResponse(request.app.openapi())

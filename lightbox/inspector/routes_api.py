"""The inspector app's JSON API (signed in; every write sends X-CSRF-Token)."""
from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from lightbox.inspector import accounts
from lightbox.inspector import queue as q
from lightbox.inspector.routes_public import SessionOut
from lightbox.inspector.security import (
    SESSION_COOKIE,
    connection,
    current_session,
    require_csrf_header,
)

router = APIRouter(prefix="/api", dependencies=[Depends(current_session)])
WRITE = [Depends(require_csrf_header)]


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


def _claim_out(claim: q.Claim) -> ClaimOut:
    return ClaimOut(photo_id=claim.photo_id, claimed_at=claim.claimed_at, expires_at=claim.expires_at,
                    already_held=claim.already_held)


@router.get("/me", response_model=SessionOut, tags=["session"])
def api_me(request: Request):
    """Who is signed in, and the CSRF token to send with writes."""
    s = request.state.session
    return {"inspector_id": s.inspector_id, "csrf_token": s.csrf_token}


@router.post("/logout", tags=["session"], dependencies=WRITE)
def api_logout(request: Request):
    with connection(request) as conn:
        accounts.end_session(conn, request.cookies.get(SESSION_COOKIE))
    response = JSONResponse({"signed_out": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/queue", tags=["queue"])
def api_queue(request: Request, status: Literal["open", "pending", "claimed", "decided", "all"] = "open",
              category: str | None = Query(None, max_length=200),
              ai_decision: Literal["under_review", "changes_required", "not_suitable", "removed"] | None = None,
              decision: Literal["accepted", "rejected", "changes_required"] | None = None,
              age: Literal["1d", "7d", "older7d", "older30d"] | None = None,
              limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=10_000_000)):
    """The queue by priority (decided: newest first), with filters."""
    with connection(request) as conn:
        rows = q.list_queue(conn, status=status, category=category, ai_decision=ai_decision,
                            decision=decision, age=age, limit=limit, offset=offset)
        counts = q.queue_counts(conn)
    return {"counts": counts, "items": rows}


@router.get("/photos/{photo_id}", tags=["queue"])
def api_photo(request: Request, photo_id: str):
    """One queued photo: scores, reasons, metadata, releases, photographer's history."""
    with connection(request) as conn:
        item = q.photo_detail(conn, photo_id)
    item.get("photo", {}).pop("image_path", None)
    return item


@router.post("/claim-next", response_model=ClaimOut, tags=["claims"], dependencies=WRITE)
def api_claim_next(request: Request, body: ClaimNextBody | None = None):
    """Claim the highest-priority pending photo (or get the one you hold)."""
    with connection(request) as conn:
        claim = q.claim_next(conn, request.state.session.inspector_id, category=(body.category if body else None))
    if claim is None:
        return ClaimOut(photo_id=None, message="Nothing is pending.")
    return _claim_out(claim)


@router.post("/claim", response_model=ClaimOut, tags=["claims"], dependencies=WRITE)
def api_claim(request: Request, body: PhotoBody):
    """Claim one named photo."""
    with connection(request) as conn:
        return _claim_out(q.claim_photo(conn, request.state.session.inspector_id, body.photo_id))


@router.post("/decide", response_model=DecisionOut, tags=["claims"], dependencies=WRITE,
             responses={409: {"description": "you do not hold the photo (another inspector does, your claim expired, or it is decided)"}})
def api_decide(request: Request, body: DecideBody):
    """Decide on a photo you hold: accepted; rejected with reason_code (+ note);
    changes_required with releases (+ note)."""
    with connection(request) as conn:
        return q.decide(conn, request.state.session.inspector_id, body.photo_id, body.decision,
                        body.reason_code, body.note, body.releases)


@router.post("/release", tags=["claims"], dependencies=WRITE)
def api_release(request: Request, body: PhotoBody):
    """Give a photo you hold back to the queue."""
    with connection(request) as conn:
        q.release(conn, request.state.session.inspector_id, body.photo_id)
    return {"photo_id": body.photo_id, "released": True}


@router.get("/history", tags=["queue"])
def api_history(request: Request, limit: int = Query(100, ge=1, le=1000)):
    """Your own decisions, newest first."""
    with connection(request) as conn:
        return {"items": q.my_history(conn, request.state.session.inspector_id, limit=limit)}


@router.get("/reasons", tags=["queue"])
def api_reasons():
    """The rejection reasons and the releases a decision can name."""
    return {"reject_reasons": q.REJECT_REASONS, "releases": q.RELEASES}

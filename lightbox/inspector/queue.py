"""The review queue as inspectors use it: list, claim, decide, release. All in SQL, on a
psycopg2 connection the caller owns; every write is one short transaction.

Claiming is atomic: ``select … for update skip locked`` picks the best pending row that no
other transaction is looking at, so twenty inspectors pressing "next" at once get twenty
different photos and nobody waits for anybody. An inspector holds at most one live claim
(asking for the next photo while holding one returns the held one; a per-inspector advisory
lock makes that true for two tabs at once too). A claim lives ``LIGHTBOX_CLAIM_TTL_MINUTES``
(default 30); after that the photo goes back to the queue (lazily: every claim first returns
expired claims to ``pending``, and listings show them as pending), and a decision on it is
refused with a message saying why. Every decision updates ``licensing.review_queue`` and
appends a row to ``licensing.decisions``, the training labels of ``licensing_train_model``.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
from dataclasses import dataclass

DECISIONS = ("accepted", "rejected", "changes_required")
AI_DECISIONS = ("under_review", "changes_required", "not_suitable", "removed")

# The reasons an inspector picks from when rejecting (code -> label shown in the app).
REJECT_REASONS = {
    "technical_quality": "Technical quality (focus, noise, exposure)",
    "composition": "Composition or framing",
    "low_commercial_value": "Low commercial value",
    "trademark_or_logo": "Visible trademark or logo",
    "ip_or_copyright": "Intellectual property / copyright concern",
    "similar_content": "Too similar to existing content",
    "offensive_or_sensitive": "Offensive or sensitive content",
    "metadata": "Title, description or keywords wrong or spam",
    "other": "Other (explain in the note)",
}
# What a "changes required" decision asks for.
RELEASES = {
    "model_release": "Model release (recognisable people)",
    "property_release": "Property release (private property, artwork)",
}

# Age filter of the queue: name -> (min hours since enqueued, max hours) (None: open-ended).
AGES = {
    "1d": (None, 24),
    "7d": (None, 24 * 7),
    "older7d": (24 * 7, None),
    "older30d": (24 * 30, None),
}
STATUSES = ("open", "pending", "claimed", "decided", "all")


class QueueError(Exception):
    """A queue operation that cannot be done; ``str()`` is a message for the inspector."""

    status_code = 409


class NotFound(QueueError):
    status_code = 404


class Invalid(QueueError):
    status_code = 422


def claim_ttl_minutes(env=None) -> float:
    env = os.environ if env is None else env
    value = float(env.get("LIGHTBOX_CLAIM_TTL_MINUTES", "30"))
    if value <= 0:
        raise ValueError(f"LIGHTBOX_CLAIM_TTL_MINUTES must be positive, got {value}")
    return value


@dataclass(frozen=True)
class Claim:
    photo_id: str
    claimed_at: object
    expires_at: object
    already_held: bool = False


# The live claim condition, with %(ttl)s minutes.
_LIVE = "q.status = 'claimed' and q.claimed_at >= now() - %(ttl)s * interval '1 minute'"

_RETURN_EXPIRED = """
update licensing.review_queue q
   set status = 'pending', claimed_by = null, claimed_at = null
 where q.photo_id in (
        select e.photo_id from licensing.review_queue e
         where e.status = 'claimed' and e.claimed_at < now() - %(ttl)s * interval '1 minute'
           for update skip locked)
"""

_HELD_SELECT = f"""
select q.photo_id, q.claimed_at
  from licensing.review_queue q
 where q.claimed_by = %(inspector)s and {_LIVE}
 order by q.claimed_at
 limit 1
"""



@contextlib.contextmanager
def _atomic(conn):
    """A cursor for one atomic ``execute()``. On an autocommit connection (the app's) a
    string of several statements runs as one implicit transaction in one round trip; on
    any other connection it runs in the connection's transaction, committed at the end."""
    if conn.autocommit:
        with conn.cursor() as cur:
            yield cur
    else:
        with conn, conn.cursor() as cur:
            yield cur


# One claim at a time per inspector, even from two tabs at once: the claim statements
# start with this lock, held to the end of their transaction.
_LOCK = "select pg_advisory_xact_lock(hashtext('lightbox.inspector.claim'), hashtext(%(inspector)s));"


def claim_next(conn, inspector: str, category: str | None = None, ttl: float | None = None) -> Claim | None:
    """Claim the highest-priority pending photo (optionally of one category) for
    ``inspector``, or return the claim they already hold. None when nothing is pending.
    One round trip: lock, return expired claims, then held-or-claim in one statement."""
    ttl = claim_ttl_minutes() if ttl is None else ttl
    params = {"inspector": inspector, "ttl": ttl, "category": category or None}
    sql = _LOCK + _RETURN_EXPIRED + ";" + f"""
with held as ({_HELD_SELECT}),
next as (
    select q.photo_id
      from licensing.review_queue q
     where q.status = 'pending'
       and not exists (select 1 from held)
       and (%(category)s::text is null or exists (
            select 1 from raw.photos p where p.photo_id = q.photo_id and p.category = %(category)s::text))
     order by q.priority desc, q.enqueued_at, q.photo_id
     limit 1
       for update skip locked
),
taken as (
    update licensing.review_queue q
       set status = 'claimed', claimed_by = %(inspector)s, claimed_at = now()
      from next
     where q.photo_id = next.photo_id
    returning q.photo_id, q.claimed_at
)
select photo_id, claimed_at, claimed_at + %(ttl)s * interval '1 minute', true from held
union all
select photo_id, claimed_at, claimed_at + %(ttl)s * interval '1 minute', false from taken
"""
    with _atomic(conn) as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
    return Claim(row[0], row[1], row[2], already_held=row[3]) if row else None


def claim_photo(conn, inspector: str, photo_id: str, ttl: float | None = None) -> Claim:
    """Claim one named photo (from the queue page). Refused if another inspector holds it,
    it is decided, or the inspector already holds another photo."""
    ttl = claim_ttl_minutes() if ttl is None else ttl
    params = {"inspector": inspector, "ttl": ttl, "photo_id": photo_id}
    sql = _LOCK + f"""
with held as ({_HELD_SELECT}),
taken as (
    update licensing.review_queue q
       set status = 'claimed', claimed_by = %(inspector)s, claimed_at = now()
     where q.photo_id = %(photo_id)s
       and not exists (select 1 from held)
       and (q.status = 'pending' or (q.status = 'claimed' and not ({_LIVE})))
    returning q.photo_id, q.claimed_at
)
select photo_id, claimed_at, claimed_at + %(ttl)s * interval '1 minute', true from held
union all
select photo_id, claimed_at, claimed_at + %(ttl)s * interval '1 minute', false from taken
"""
    with _atomic(conn) as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
        if row and row[3] and row[0] != photo_id:
            raise QueueError(f"You already hold photo {row[0]}: decide on it or release it first.")
        if row:
            return Claim(row[0], row[1], row[2], already_held=row[3])
        raise _why_not_held(cur, inspector, photo_id, ttl, verb="claim")


def _why_not_held(cur, inspector: str, photo_id: str, ttl: float, verb: str) -> QueueError:
    """The reason ``inspector`` cannot ``verb`` ``photo_id``, as an exception to raise."""
    cur.execute(
        """
        select q.status, q.claimed_by, q.decision,
               q.status = 'claimed' and q.claimed_at >= now() - %(ttl)s * interval '1 minute',
               q.claimed_at + %(ttl)s * interval '1 minute'
          from licensing.review_queue q where q.photo_id = %(photo_id)s
        """,
        {"photo_id": photo_id, "ttl": ttl},
    )
    row = cur.fetchone()
    if row is None:
        return NotFound(f"Photo {photo_id} is not in the review queue.")
    status, claimed_by, decision, live, expires_at = row
    if status == "decided":
        return QueueError(f"Cannot {verb} photo {photo_id}: it was already decided ({decision}).")
    if status == "claimed" and live and claimed_by != inspector:
        return QueueError(f"Cannot {verb} photo {photo_id}: another inspector holds it.")
    if status == "claimed" and not live and claimed_by == inspector:
        return QueueError(
            f"Cannot {verb} photo {photo_id}: your claim expired at {expires_at:%Y-%m-%d %H:%M UTC}"
            " and the photo went back to the queue. Claim it again."
        )
    return QueueError(f"Cannot {verb} photo {photo_id}: you do not hold it. Claim it first.")


def compose_reason(decision: str, reason_code: str | None, note: str | None, releases=()) -> str | None:
    """The stored reason text: ``code[,code]: note``. Validates the decision's rules."""
    note = (note or "").strip()[:2000] or None
    if decision not in DECISIONS:
        raise Invalid(f"Unknown decision {decision!r}; one of {', '.join(DECISIONS)}.")
    if decision == "accepted":
        codes: list[str] = []
    elif decision == "rejected":
        if reason_code not in REJECT_REASONS:
            raise Invalid("A rejection needs a reason from the list.")
        if reason_code == "other" and not note:
            raise Invalid("Rejecting for 'other' needs a note saying why.")
        codes = [reason_code]
    else:
        codes = [r for r in dict.fromkeys(releases or ()) if r]
        unknown = [r for r in codes if r not in RELEASES]
        if unknown or not codes:
            raise Invalid(f"'Changes required' needs the release(s) to ask for: {', '.join(RELEASES)}.")
    text = ",".join(codes)
    if note:
        text = f"{text}: {note}" if text else note
    return text or None


def decide(conn, inspector: str, photo_id: str, decision: str, reason_code: str | None = None,
           note: str | None = None, releases=(), ttl: float | None = None) -> dict:
    """Record ``inspector``'s decision on a photo they hold. Refused (QueueError with a
    message) when they do not hold it, their claim expired, or it is already decided."""
    ttl = claim_ttl_minutes() if ttl is None else ttl
    reason = compose_reason(decision, reason_code, note, releases)
    params = {"inspector": inspector, "ttl": ttl, "photo_id": photo_id, "decision": decision, "reason": reason}
    with _atomic(conn) as cur:
        # One statement: the queue row and the training label change together or not at all.
        cur.execute(
            f"""
            with decided as (
                update licensing.review_queue q
                   set status = 'decided', decision = %(decision)s, decision_reason = %(reason)s, decided_at = now()
                 where q.photo_id = %(photo_id)s and q.claimed_by = %(inspector)s and {_LIVE}
                returning q.photo_id, q.decided_at
            )
            insert into licensing.decisions (photo_id, inspector_id, decision, reason, decided_at)
            select photo_id, %(inspector)s, %(decision)s, %(reason)s, decided_at from decided
            returning decision_id, decided_at
            """,
            params,
        )
        row = cur.fetchone()
        if row is None:
            raise _why_not_held(cur, inspector, photo_id, ttl, verb="decide on")
    return {"photo_id": photo_id, "decision": decision, "reason": reason, "decided_at": row[1], "decision_id": row[0]}


def release(conn, inspector: str, photo_id: str, ttl: float | None = None) -> None:
    """Give a held photo back to the queue."""
    ttl = claim_ttl_minutes() if ttl is None else ttl
    with _atomic(conn) as cur:
        cur.execute(
            """
            update licensing.review_queue q
               set status = 'pending', claimed_by = null, claimed_at = null
             where q.photo_id = %(photo_id)s and q.claimed_by = %(inspector)s and q.status = 'claimed'
            """,
            {"photo_id": photo_id, "inspector": inspector},
        )
        if cur.rowcount == 0:
            raise _why_not_held(cur, inspector, photo_id, ttl, verb="release")


def held_claim(conn, inspector: str, ttl: float | None = None) -> Claim | None:
    ttl = claim_ttl_minutes() if ttl is None else ttl
    with _atomic(conn) as cur:
        cur.execute(_HELD_SELECT, {"inspector": inspector, "ttl": ttl})
        row = cur.fetchone()
    return Claim(row[0], row[1], row[1] + dt.timedelta(minutes=ttl), already_held=True) if row else None


def _rows(cur) -> list[dict]:
    names = [d.name for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


# The queue's row as the app shows it: the queue, the score it was routed by, the photo.
_QUEUE_SELECT = """
select q.photo_id, q.priority,
       case when q.status = 'claimed' and q.claimed_at < now() - %(ttl)s * interval '1 minute'
            then 'pending' else q.status end as status,
       case when q.status = 'claimed' and q.claimed_at >= now() - %(ttl)s * interval '1 minute'
            then q.claimed_by end as claimed_by,
       q.claimed_at, q.decision, q.decision_reason, q.decided_at, q.enqueued_at,
       coalesce(q.model_version, s.model_version) as model_version,
       s.p_suitable, s.p_sale, s.decision as ai_decision, s.reasons,
       p.title, p.category, p.owner_id, p.width, p.height, p.has_people, p.has_property,
       p.model_release, p.property_release
  from licensing.review_queue q
  left join raw.photos p on p.photo_id = q.photo_id
  left join lateral (
        select sc.* from licensing.scores sc
         where sc.photo_id = q.photo_id
         order by (sc.model_version = q.model_version) desc nulls last, sc.scored_at desc
         limit 1) s on true
"""


def list_queue(conn, status: str = "open", category: str | None = None, ai_decision: str | None = None,
               decision: str | None = None, age: str | None = None, limit: int = 50, offset: int = 0,
               ttl: float | None = None) -> list[dict]:
    """The queue by priority, filtered. Every filter value is a bound parameter."""
    ttl = claim_ttl_minutes() if ttl is None else ttl
    if status not in STATUSES:
        raise Invalid(f"Unknown status {status!r}")
    if age and age not in AGES:
        raise Invalid(f"Unknown age {age!r}")
    min_h, max_h = AGES.get(age or "", (None, None))
    live = "q.status = 'claimed' and q.claimed_at >= now() - %(ttl)s * interval '1 minute'"
    status_sql = {
        "open": "q.status <> 'decided'",
        "pending": f"q.status <> 'decided' and not ({live})",
        "claimed": live,
        "decided": "q.status = 'decided'",
        "all": "true",
    }[status]
    sql = (
        _QUEUE_SELECT
        + f"""
 where {status_sql}
   and (%(category)s::text is null or p.category = %(category)s::text)
   and (%(ai_decision)s::text is null or s.decision = %(ai_decision)s::text)
   and (%(decision)s::text is null or q.decision = %(decision)s::text)
   and (%(min_h)s::float8 is null or q.enqueued_at <= now() - %(min_h)s::float8 * interval '1 hour')
   and (%(max_h)s::float8 is null or q.enqueued_at >= now() - %(max_h)s::float8 * interval '1 hour')
 order by {"q.decided_at desc" if status == "decided" else "q.priority desc, q.enqueued_at, q.photo_id"}
 limit %(limit)s offset %(offset)s
"""
    )
    params = {
        "ttl": ttl, "category": category or None, "ai_decision": ai_decision or None, "decision": decision or None,
        "min_h": min_h, "max_h": max_h, "limit": max(1, min(int(limit), 500)), "offset": max(0, int(offset)),
    }
    with _atomic(conn) as cur:
        cur.execute(sql, params)
        return _rows(cur)


def queue_counts(conn, ttl: float | None = None) -> dict:
    ttl = claim_ttl_minutes() if ttl is None else ttl
    with _atomic(conn) as cur:
        cur.execute(
            """
            select count(*) filter (where status = 'pending'
                                       or (status = 'claimed' and claimed_at < now() - %(ttl)s * interval '1 minute')),
                   count(*) filter (where status = 'claimed' and claimed_at >= now() - %(ttl)s * interval '1 minute'),
                   count(*) filter (where status = 'decided')
              from licensing.review_queue
            """,
            {"ttl": ttl},
        )
        pending, claimed, decided = cur.fetchone()
    return {"pending": pending, "claimed": claimed, "decided": decided}


def categories(conn) -> list[str]:
    with _atomic(conn) as cur:
        cur.execute(
            """
            select distinct p.category from licensing.review_queue q
              join raw.photos p on p.photo_id = q.photo_id
             where p.category is not null order by 1
            """
        )
        return [r[0] for r in cur.fetchall()]


def photo_detail(conn, photo_id: str, ttl: float | None = None) -> dict:
    """Everything the photo page shows. Only photos in the review queue are visible."""
    ttl = claim_ttl_minutes() if ttl is None else ttl
    with _atomic(conn) as cur:
        cur.execute(_QUEUE_SELECT + " where q.photo_id = %(photo_id)s", {"ttl": ttl, "photo_id": photo_id})
        rows = _rows(cur)
        if not rows:
            raise NotFound(f"Photo {photo_id} is not in the review queue.")
        item = rows[0]
        cur.execute(
            """
            select p.photo_id, p.owner_id, p.uploaded_at, p.title, p.description, p.keywords, p.category,
                   p.width, p.height, p.camera_make, p.camera_model, p.focal_length_mm, p.aperture, p.iso,
                   p.exposure_s, p.has_people, p.has_property, p.model_release, p.property_release,
                   x.is_exclusive as exclusive, x.exclusive_source, p.image_path, u.username, u.country, u.joined_at
              from raw.photos p left join raw.users u on u.user_id = p.owner_id
              left join licensing.photo_exclusivity x on x.photo_id = p.photo_id  -- the one rule
             where p.photo_id = %(photo_id)s
            """,
            {"photo_id": photo_id},
        )
        meta = _rows(cur)
        item["photo"] = meta[0] if meta else {}
        cur.execute(
            """
            select model_version, p_suitable, p_sale, decision, reasons, scored_at
              from licensing.scores where photo_id = %(photo_id)s order by scored_at desc limit 10
            """,
            {"photo_id": photo_id},
        )
        item["scores"] = _rows(cur)
        cur.execute(
            """
            select inspector_id, decision, reason, decided_at
              from licensing.decisions where photo_id = %(photo_id)s order by decided_at desc
            """,
            {"photo_id": photo_id},
        )
        item["decisions"] = _rows(cur)
        item["history"] = photographer_history(cur, item["photo"].get("owner_id"), photo_id)
    item["claim_expires_at"] = None
    if item["status"] == "claimed" and item["claimed_at"] is not None:
        item["claim_expires_at"] = item["claimed_at"] + dt.timedelta(minutes=ttl)
    return item


def photographer_history(cur, owner_id: str | None, photo_id: str, limit: int = 12) -> dict:
    """The owner's other photos' decisions: from the app and from the marketplace's
    inspections (raw.inspections), newest first, with counts per decision."""
    if not owner_id:
        return {"counts": {}, "recent": []}
    cur.execute(
        """
        with labels as (
            select d.photo_id, d.decision, d.reason, d.decided_at
              from licensing.decisions d join raw.photos p on p.photo_id = d.photo_id
             where p.owner_id = %(owner)s and d.photo_id <> %(photo_id)s
            union all
            select i.photo_id, i.decision, i.reason, i.decided_at
              from raw.inspections i join raw.photos p on p.photo_id = i.photo_id
             where p.owner_id = %(owner)s and i.photo_id <> %(photo_id)s
        )
        select l.photo_id, p.title, l.decision, l.reason, l.decided_at
          from labels l left join raw.photos p on p.photo_id = l.photo_id
         order by l.decided_at desc nulls last
        """,
        {"owner": owner_id, "photo_id": photo_id},
    )
    rows = _rows(cur)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["decision"]] = counts.get(row["decision"], 0) + 1
    return {"counts": counts, "recent": rows[:limit], "total": len(rows)}


def my_history(conn, inspector: str, limit: int = 100) -> list[dict]:
    with _atomic(conn) as cur:
        cur.execute(
            """
            select d.decision_id, d.photo_id, p.title, p.category, d.decision, d.reason, d.decided_at
              from licensing.decisions d left join raw.photos p on p.photo_id = d.photo_id
             where d.inspector_id = %(inspector)s
             order by d.decided_at desc, d.decision_id desc
             limit %(limit)s
            """,
            {"inspector": inspector, "limit": max(1, min(int(limit), 1000))},
        )
        return _rows(cur)


def image_path(conn, photo_id: str) -> tuple[str, str | None]:
    """(image_path, sha256) of a queued photo (NotFound for anything not in the queue)."""
    with _atomic(conn) as cur:
        cur.execute(
            """
            select p.image_path, p.sha256 from licensing.review_queue q join raw.photos p on p.photo_id = q.photo_id
             where q.photo_id = %s
            """,
            (photo_id,),
        )
        row = cur.fetchone()
    if not row or not row[0]:
        raise NotFound(f"Photo {photo_id} has no image in the review queue.")
    return row[0], row[1]

"""The one writer of ``infringement.matches``, ``infringement.cases`` and the partner outbox.

The infringement sweep (``actioner``) and the exclusivity audit (``exclusivity.audit``,
``exclusivity.holds``) both record sightings and open, pause and resume cases through these
functions, so that both follow the same rules:

- a case is one photo × infringer registrable domain (:func:`lightbox.domains.registrable_domain`),
  its id :func:`case_id_for` whoever opens it; reopening it only moves ``last_seen_at``;
- a match is one photo × page × image; a re-sighting widens ``first_seen_at``/``last_seen_at``
  and takes the newer evidence; a match a person dismissed stays dismissed;
- a case paused for an exclusivity hold carries a reason starting with :data:`HOLD_PREFIX`;
- every case whose status differs from what its partner was last told gets one outbox
  message (:func:`sync_outbox`).

Every function takes a cursor and leaves the transaction to its caller.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

HOLD_PREFIX = "exclusivity hold"
ACTIVE_CASE_STATUSES = ("open", "sent_to_partner")  # what a hold pauses

MATCH_COLUMNS = (
    "photo_id", "page_url", "image_url", "distance", "method", "transform", "first_seen_at", "last_seen_at",
    "evidence_uri", "status", "infringer_domain", "case_id", "details", "sweep_id",
)


def case_id_for(photo_id: str, infringer_domain: str) -> str:
    return "IC-" + hashlib.sha256(f"{photo_id}|{infringer_domain}".encode()).hexdigest()[:16]


def upsert_matches(cur, rows: list[tuple]) -> None:
    """Insert or update sightings; each row holds :data:`MATCH_COLUMNS` in order (``details``
    a dict or None, ``sweep_id`` None for the audit)."""
    if not rows:
        return
    from psycopg2.extras import execute_values

    rows = [(*r[:12], None if r[12] is None else json.dumps(r[12], default=str), r[13]) for r in rows]
    execute_values(cur, f"""
        insert into infringement.matches as m ({", ".join(MATCH_COLUMNS)})
        values %s
        on conflict (photo_id, page_url, image_url) do update set
            distance = excluded.distance, method = excluded.method, transform = excluded.transform,
            details = coalesce(excluded.details, m.details), sweep_id = coalesce(excluded.sweep_id, m.sweep_id),
            first_seen_at = least(m.first_seen_at, excluded.first_seen_at),
            last_seen_at = greatest(m.last_seen_at, excluded.last_seen_at),
            evidence_uri = coalesce(excluded.evidence_uri, m.evidence_uri),
            infringer_domain = excluded.infringer_domain,
            status = case when m.status = 'dismissed' then m.status else excluded.status end,
            case_id = case when m.status = 'dismissed' then m.case_id else excluded.case_id end
    """, rows, template="(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s)")


@dataclass
class CaseWrite:
    case_id: str
    opened: bool  # False: the case existed (re-sighted)
    status: str
    status_reason: str | None


def upsert_case(cur, photo_id: str, owner_id: str | None, infringer_domain: str, as_of: datetime,
                evidence_uri: str | None) -> CaseWrite:
    """Open the case of a photo on a domain, or record that it was sighted again. Matches
    written with :func:`case_id_for` are pointed at the case's real id (a case opened
    before ids were shared keeps its own) and counted as its sightings."""
    proposed = case_id_for(photo_id, infringer_domain)
    cur.execute(
        """insert into infringement.cases as c
               (case_id, photo_id, owner_id, infringer_domain, opened_at, status, status_changed_at,
                evidence_uri, last_seen_at)
           values (%s, %s, %s, %s, %s, 'open', %s, %s, %s)
           on conflict (photo_id, infringer_domain) do update set
               last_seen_at = greatest(c.last_seen_at, excluded.last_seen_at),
               evidence_uri = coalesce(c.evidence_uri, excluded.evidence_uri)
           returning (xmax = 0), c.case_id, c.status, c.status_reason""",
        (proposed, photo_id, owner_id, infringer_domain, as_of, as_of, evidence_uri, as_of),
    )
    opened, case_id, status, reason = cur.fetchone()
    if case_id != proposed:
        cur.execute("update infringement.matches set case_id = %s where case_id = %s", (case_id, proposed))
    cur.execute(
        """update infringement.cases set sightings = (select count(*) from infringement.matches where case_id = %s)
           where case_id = %s""",
        (case_id, case_id),
    )
    return CaseWrite(case_id, bool(opened), status, reason)


def set_case_status(cur, case_id: str, status: str, reason: str | None, as_of: datetime) -> None:
    cur.execute(
        "update infringement.cases set status = %s, status_reason = %s, status_changed_at = %s where case_id = %s",
        (status, reason, as_of, case_id),
    )


def pause_for_hold(cur, photo_ids: list[str], reason: str, as_of: datetime) -> dict[str, str]:
    """Pause the active cases of photos on exclusivity hold (``reason`` starts with
    :data:`HOLD_PREFIX`). Returns ``{case_id: status before}`` of the cases paused now."""
    if not photo_ids:
        return {}
    assert reason.startswith(HOLD_PREFIX), reason
    cur.execute(
        """
        with before as (
            select case_id, status from infringement.cases
            where photo_id = any(%s) and status = any(%s) for update
        )
        update infringement.cases as c
        set status = 'paused', status_reason = %s, status_changed_at = %s
        from before where c.case_id = before.case_id
        returning c.case_id, before.status
        """,
        (list(photo_ids), list(ACTIVE_CASE_STATUSES), reason, as_of),
    )
    return dict(cur.fetchall())


def hold_matches(cur, photo_id: str) -> int:
    """A held photo's sightings that were cases become ``exclusivity_hold``."""
    cur.execute("update infringement.matches set status = 'exclusivity_hold' where photo_id = %s and status = 'case'", (photo_id,))
    return cur.rowcount


def release_matches(cur, photo_id: str) -> int:
    """The hold is lifted: held sightings that belong to a case are cases again."""
    cur.execute(
        """update infringement.matches set status = 'case'
           where photo_id = %s and status = 'exclusivity_hold' and case_id is not null""",
        (photo_id,),
    )
    return cur.rowcount


def hold_paused_cases(cur, photo_id: str) -> list[str]:
    """The photo's cases paused by an exclusivity hold (locked for update)."""
    cur.execute(
        """select case_id from infringement.cases
           where photo_id = %s and status = 'paused' and status_reason like %s
           order by case_id for update""",
        (photo_id, HOLD_PREFIX + "%"),
    )
    return [r[0] for r in cur.fetchall()]


CASE_COLUMNS = ("case_id", "photo_id", "owner_id", "infringer_domain", "opened_at", "status", "evidence_uri", "last_seen_at")


def _outbox(cur, case: dict, event: str, status: str, reason: str | None, as_of: datetime) -> None:
    payload = {
        "case_id": case["case_id"], "photo_id": case["photo_id"], "owner_id": case["owner_id"],
        "infringer_domain": case["infringer_domain"], "event": event, "status": status, "reason": reason,
        "opened_at": case["opened_at"], "last_seen_at": case["last_seen_at"],
        "evidence_uri": case["evidence_uri"], "pages": case.get("pages", []), "as_of": as_of,
    }
    cur.execute(
        """insert into infringement.partner_outbox
           (dedupe_key, case_id, event, status, reason, photo_id, owner_id, infringer_domain, evidence_uri, payload, created_at)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s) on conflict (dedupe_key) do nothing""",
        (f"{case['case_id']}|{event}|{status}|{as_of.isoformat()}", case["case_id"], event, status, reason,
         case["photo_id"], case["owner_id"], case["infringer_domain"], case["evidence_uri"],
         json.dumps(payload, default=str), as_of),
    )


def sync_outbox(cur, as_of: datetime) -> int:
    """One message for every case whose status differs from the last one its partner was
    told (whoever changed it: the sweep, the exclusivity audit's holds, a person), and a
    ``case_opened`` for a case never announced. Returns the number of new messages."""
    cur.execute(
        """select c.case_id, c.photo_id, c.owner_id, c.infringer_domain, c.opened_at, c.status, c.evidence_uri,
                  c.last_seen_at, c.status_reason, last.status is null,
                  array(select m.page_url from infringement.matches m where m.case_id = c.case_id order by 1)
           from infringement.cases c
           left join lateral (
               select o.status from infringement.partner_outbox o where o.case_id = c.case_id
               order by o.message_id desc limit 1
           ) last on true
           where last.status is distinct from c.status
           order by c.case_id"""
    )
    count = 0
    for *values, reason, never_sent, pages in cur.fetchall():
        case = dict(zip(CASE_COLUMNS, values)) | {"pages": pages}
        event = "case_opened" if never_sent else "status_changed"
        _outbox(cur, case, event, case["status"], reason, as_of)
        count += cur.rowcount
    return count

"""Exclusivity holds and their consequences.

A photo is on hold while it has an open or confirmed violation (the view
``exclusivity.holds``). ``apply_holds`` brings the rest of the warehouse in line with that
view, idempotently:

- placing a hold: the photo's infringement matches with status ``case`` become
  ``exclusivity_hold``; its cases that are ``open`` (or ``sent_to_partner``) become
  ``paused`` with the reason; a ``placed`` event records what was paused; the photographer
  gets a notification in ``exclusivity.notification_outbox``;
- lifting a hold (every violation dismissed): the paused cases go back to the status they
  had, the held matches that belong to a case go back to ``case``, a ``lifted`` event and a
  notification are recorded.

Matches and cases change through :mod:`lightbox.infringement.cases` (their one writer, shared
with the infringement sweep); every case status changed here reaches the enforcement partners
through ``infringement.partner_outbox`` (``cases.sync_outbox``) in the same transaction.

People decide violations with ``decide`` (the ``lightbox violations confirm|dismiss``
commands); a dismissal that leaves the photo without open violations lifts its hold.
"""
from __future__ import annotations

from datetime import datetime

from psycopg2.extras import Json

from lightbox.infringement import cases
from lightbox.infringement.cases import HOLD_PREFIX


def _lock(cur) -> None:
    # The DAG and a person at the CLI may both move holds; one at a time.
    cur.execute("select pg_advisory_xact_lock(hashtext('lightbox.exclusivity.holds'))")


def apply_holds(conn, as_of: datetime) -> dict:
    """Place holds for newly held photos, keep held photos' matches and cases paused, lift
    holds whose violations were all dismissed. Returns counts."""
    placed = lifted = paused_total = held_matches = 0
    with conn:
        with conn.cursor() as cur:
            _lock(cur)
            cur.execute(
                """
                select h.photo_id, h.held_since,
                       array_agg(v.violation_id order by v.violation_id),
                       array_agg(distinct v.site)
                from exclusivity.holds as h
                join exclusivity.violations as v on v.photo_id = h.photo_id and v.status in ('open', 'confirmed')
                group by h.photo_id, h.held_since
                """
            )
            held = {r[0]: {"since": r[1], "violation_ids": list(r[2]), "sites": list(r[3])} for r in cur.fetchall()}
            cur.execute(
                """
                select distinct on (photo_id) photo_id, event, event_id, paused_cases
                from exclusivity.hold_events order by photo_id, event_id desc
                """
            )
            last = {r[0]: {"event": r[1], "event_id": r[2], "paused_cases": r[3] or {}} for r in cur.fetchall()}

            for photo_id, hold in sorted(held.items()):
                reason = f"{HOLD_PREFIX}: photo {photo_id} is also listed on {', '.join(sorted(hold['sites']))} (violation {', '.join(map(str, hold['violation_ids']))})"
                held_matches += cases.hold_matches(cur, photo_id)
                newly_paused = cases.pause_for_hold(cur, [photo_id], reason, as_of)
                paused_total += len(newly_paused)
                previous = last.get(photo_id)
                if previous is None or previous["event"] == "lifted":
                    cur.execute(
                        """
                        insert into exclusivity.hold_events (photo_id, event, at, violation_ids, paused_cases, detail)
                        values (%s, 'placed', %s, %s, %s, %s) returning event_id
                        """,
                        (photo_id, as_of, hold["violation_ids"], Json(newly_paused), Json({"sites": hold["sites"], "reason": reason})),
                    )
                    event_id = cur.fetchone()[0]
                    _notify(cur, photo_id, "exclusivity_hold_placed", event_id, as_of, hold)
                    placed += 1
                elif newly_paused:
                    # Cases opened while the photo was already held: remember them for the lift.
                    cur.execute(
                        "update exclusivity.hold_events set paused_cases = paused_cases || %s where event_id = %s",
                        (Json(newly_paused), previous["event_id"]),
                    )

            for photo_id, previous in sorted(last.items()):
                if previous["event"] != "placed" or photo_id in held:
                    continue
                restored = {}
                for case_id in cases.hold_paused_cases(cur, photo_id):
                    status = previous["paused_cases"].get(case_id, "open")
                    cases.set_case_status(cur, case_id, status, f"{HOLD_PREFIX} lifted: every violation of photo {photo_id} dismissed", as_of)
                    restored[case_id] = status
                cases.release_matches(cur, photo_id)
                cur.execute(
                    """
                    insert into exclusivity.hold_events (photo_id, event, at, paused_cases, detail)
                    values (%s, 'lifted', %s, %s, %s) returning event_id
                    """,
                    (photo_id, as_of, Json(restored), Json({"placed_event_id": previous["event_id"]})),
                )
                event_id = cur.fetchone()[0]
                _notify(cur, photo_id, "exclusivity_hold_lifted", event_id, as_of, None)
                lifted += 1
            # tell the enforcement partners at once about cases paused or resumed here (and
            # cases the audit opened): no partner keeps pursuing a photo also sold elsewhere
            partner_messages = cases.sync_outbox(cur, as_of)
    return {
        "held": len(held),
        "placed": placed,
        "lifted": lifted,
        "cases_paused": paused_total,
        "matches_held": held_matches,
        "partner_messages": partner_messages,
    }


def _notify(cur, photo_id: str, kind: str, event_id: int, at: datetime, hold: dict | None) -> None:
    cur.execute("select owner_id, title from raw.photos where photo_id = %s", (photo_id,))
    row = cur.fetchone()
    if row is None or row[0] is None:
        return
    owner_id, title = row
    name = f"“{title}” ({photo_id})" if title else photo_id
    if kind == "exclusivity_hold_placed":
        sites = ", ".join(sorted(hold["sites"]))
        subject = f"Your exclusive photo {name} is on hold"
        body = (
            f"We found your photo {name}, which you marked exclusive, offered on {sites}. "
            "While it is on hold we do not pursue copies of it. If the listing is not yours or "
            "was removed, reply and our team will review it; otherwise please remove the listing "
            "or the exclusive flag."
        )
        payload = {"photo_id": photo_id, "sites": hold["sites"], "violation_ids": hold["violation_ids"]}
    else:
        subject = f"The hold on your photo {name} is lifted"
        body = f"We reviewed the listings of your photo {name} on other sites and dismissed them; enforcement resumes."
        payload = {"photo_id": photo_id}
    cur.execute(
        """
        insert into exclusivity.notification_outbox (recipient_user_id, kind, photo_id, hold_event_id, subject, body, payload, created_at)
        values (%s, %s, %s, %s, %s, %s, %s, %s)
        on conflict (kind, hold_event_id) do nothing
        """,
        (owner_id, kind, photo_id, event_id, subject, body, Json(payload), at),
    )


class DecisionError(ValueError):
    pass


def decide(conn, violation_id: int, decision: str, by: str, note: str | None, at: datetime) -> dict:
    """A person confirms or dismisses a violation; holds follow at once."""
    if decision not in ("confirmed", "dismissed"):
        raise DecisionError(f"decision must be confirmed or dismissed, not {decision!r}")
    if not by or not by.strip():
        raise DecisionError("say who decides (--by)")
    if decision == "dismissed" and not (note and note.strip()):
        raise DecisionError("a dismissal needs a note saying why (--note)")
    with conn:
        with conn.cursor() as cur:
            cur.execute(
                """
                update exclusivity.violations
                set status = %s, decided_by = %s, decided_at = %s, decision_note = %s
                where violation_id = %s
                returning photo_id, site, listing_url
                """,
                (decision, by.strip(), at, note, violation_id),
            )
            row = cur.fetchone()
    if row is None:
        raise DecisionError(f"no violation {violation_id}")
    holds = apply_holds(conn, at)
    return {"violation_id": violation_id, "photo_id": row[0], "site": row[1], "listing_url": row[2], "status": decision, "holds": holds}

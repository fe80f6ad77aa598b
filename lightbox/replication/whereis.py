"""Where are a user's photos? For each photo of the user: the regions that hold it, since
when and on which consent event, and the removals with their dates and reasons, all from
``replication.inventory`` and ``replication.audit_log`` (what the sync really did)."""
from __future__ import annotations


def where_is(conn, user_id: str) -> dict:
    with conn.cursor() as cur:
        cur.execute("select deleted_at, username from raw.users where user_id = %s", (user_id,))
        user = cur.fetchone()
        cur.execute(
            """with ids as (
                   select photo_id from raw.photos where owner_id = %(u)s
                   union select photo_id from replication.inventory where owner_id = %(u)s
                   union select photo_id from replication.audit_log where owner_id = %(u)s
               )
               select ids.photo_id, p.deleted_at, coalesce(x.is_exclusive, false)
               from ids left join raw.photos as p on p.photo_id = ids.photo_id
               left join licensing.photo_exclusivity as x on x.photo_id = ids.photo_id
               order by ids.photo_id""",
            {"u": user_id},
        )
        photos = {
            pid: {"photo_id": pid, "deleted_at": deleted_at, "exclusive": exclusive, "regions": [], "removals": []}
            for pid, deleted_at, exclusive in cur.fetchall()
        }
        ids = list(photos)
        cur.execute(
            """select i.photo_id, i.region, i.held_since, i.replicated_at, i.consent_event_id,
                      e.action, e.at, e.photo_id is not null, i.object_key, i.sha256, i.run_id
               from replication.inventory as i
               left join raw.region_consents as e on e.event_id = i.consent_event_id
               where i.photo_id = any(%s)
               order by i.photo_id, i.region""",
            (ids,),
        )
        for pid, region, since, replicated_at, event_id, action, event_at, photo_level, key, sha, run_id in cur.fetchall():
            photos[pid]["regions"].append(
                {
                    "region": region,
                    "since": since,
                    "replicated_at": replicated_at,
                    "consent": {
                        "event_id": event_id,
                        "action": action,
                        "at": event_at,
                        "scope": None if event_id is None else ("photo" if photo_level else "all photos"),
                    },
                    "object_key": key,
                    "sha256": sha,
                    "run_id": run_id,
                }
            )
        cur.execute(
            """select photo_id, region, at, reason, action, run_id, object_key, detail
               from replication.audit_log
               where photo_id = any(%s) and direction = 'out'
               order by photo_id, audit_id""",
            (ids,),
        )
        for pid, region, at, reason, action, run_id, key, detail in cur.fetchall():
            photos[pid]["removals"].append(
                {"region": region, "at": at, "reason": reason, "action": action, "run_id": run_id,
                 "object_key": key, "detail": detail}
            )
    conn.commit()
    return {
        "user_id": user_id,
        "known": user is not None,
        "username": user[1] if user else None,
        "deleted_at": user[0] if user else None,
        "photos": list(photos.values()),
    }


def render(answer: dict) -> str:
    def ts(value) -> str:
        return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"

    name = f" ({answer['username']})" if answer.get("username") else ""
    lines = [f"user {answer['user_id']}{name}" + ("" if answer["known"] else " (unknown)")
             + (f", account deleted {ts(answer['deleted_at'])}" if answer["deleted_at"] else "")]
    if not answer["photos"]:
        lines.append("  no photos")
    for photo in answer["photos"]:
        flags = [f for f, on in (("exclusive", photo["exclusive"]),) if on]
        if photo["deleted_at"]:
            flags.append(f"deleted {ts(photo['deleted_at'])}")
        lines.append(f"photo {photo['photo_id']}" + (f" ({', '.join(flags)})" if flags else ""))
        if not photo["regions"]:
            lines.append("  held in no region")
        for held in photo["regions"]:
            consent = held["consent"]
            on = (f"consent {consent['event_id']} ({consent['action']} for {consent['scope']}, {ts(consent['at'])})"
                  if consent["event_id"] else "consent unknown")
            lines.append(f"  {held['region']}: held since {ts(held['since'])} on {on}; sha256 {held['sha256'][:12]}…")
        for removal in photo["removals"]:
            lines.append(f"  {removal['region']}: removed {ts(removal['at'])} ({removal['reason']}, run {removal['run_id']})")
    return "\n".join(lines)

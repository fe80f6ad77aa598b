"""The audit report a person reads: listings checked per site (and what came of them),
feed problems, violations by site and by photographer, holds placed and lifted, cases
opened against stock contributors. ``build_report`` returns data; ``render_markdown`` turns
it into a page; ``write_report`` stores both (``exclusivity.audit_reports`` and a Markdown
file in the object store) for the audit ``as_of``.
"""
from __future__ import annotations

import json
from datetime import datetime


def _rows(cur, sql: str, params: tuple) -> list[dict]:
    cur.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def build_report(conn, as_of: datetime, since: datetime | None = None) -> dict:
    """The report of the audit ``as_of``; holds and decisions are counted over
    ``(since, as_of]`` (default: everything up to ``as_of``)."""
    if since is not None and since >= as_of:
        since = None
    with conn.cursor() as cur:
        sites = _rows(
            cur,
            """
            select site,
                   count(*) as listings_checked,
                   count(*) filter (where status = 'violation') as violations,
                   count(*) filter (where status = 'infringement') as infringements,
                   count(*) filter (where status = 'held') as held,
                   count(*) filter (where status = 'no_match') as no_match,
                   count(*) filter (where status = 'fetch_error') as fetch_errors,
                   count(*) filter (where status = 'bad_image') as bad_images,
                   count(*) filter (where status = 'pending') as pending
            from exclusivity.listing_checks where as_of = %s
            group by site order by site
            """,
            (as_of,),
        )
        failures = _rows(
            cur,
            """
            select site, status, reason, count(*) as listings
            from exclusivity.listing_checks
            where as_of = %s and status in ('fetch_error', 'bad_image')
            group by site, status, reason order by site, listings desc, reason
            """,
            (as_of,),
        )
        feed_errors = _rows(
            cur,
            """
            select site, kind, count(*) as errors, min(reason) as example
            from exclusivity.feed_errors where as_of = %s
            group by site, kind order by site, kind
            """,
            (as_of,),
        )
        by_site = _rows(
            cur,
            """
            select site, status, count(*) as violations
            from exclusivity.violations where detected_at <= %s
            group by site, status order by site, status
            """,
            (as_of,),
        )
        by_photographer = _rows(
            cur,
            """
            select p.owner_id as photographer_id, u.username,
                   count(*) as violations,
                   count(*) filter (where v.status = 'open') as open,
                   count(*) filter (where v.status = 'confirmed') as confirmed,
                   count(*) filter (where v.status = 'dismissed') as dismissed,
                   count(distinct v.photo_id) as photos,
                   string_agg(distinct v.site, ', ') as sites
            from exclusivity.violations as v
            left join raw.photos as p using (photo_id)
            left join raw.users as u on u.user_id = p.owner_id
            where v.detected_at <= %s
            group by p.owner_id, u.username order by violations desc, photographer_id
            """,
            (as_of,),
        )
        new_violations = _rows(
            cur,
            """
            select violation_id, photo_id, site, listing_url, contributor, round(distance, 3) as distance, method,
                   listing_predates_upload, listing_predates_exclusive, status
            from exclusivity.violations where detected_at = %s order by violation_id
            """,
            (as_of,),
        )
        holds = _rows(
            cur,
            """
            select event, count(*) as photos, coalesce(sum(jsonb_array_length(jsonb_path_query_array(paused_cases, '$.*'))), 0) as cases
            from exclusivity.hold_events
            where at <= %s and (%s::timestamptz is null or at > %s)
            group by event order by event
            """,
            (as_of, since, since),
        )
        cur.execute("select count(*) from exclusivity.holds")
        on_hold = cur.fetchone()[0]
        infringements = _rows(
            cur,
            """
            select m.infringer_domain as site, m.status, count(*) as matches, count(distinct m.case_id) as cases
            from infringement.matches as m
            join exclusivity.listing_checks as c
              on c.as_of = %s and c.photo_id = m.photo_id and m.image_url = c.image_url
            group by m.infringer_domain, m.status order by site, status
            """,
            (as_of,),
        )
    held_events = {h["event"]: h for h in holds}
    return {
        "as_of": as_of.isoformat(),
        "listings_checked": sum(s["listings_checked"] for s in sites),
        "sites": sites,
        "failures": failures,
        "feed_errors": feed_errors,
        "violations_by_site": by_site,
        "violations_by_photographer": by_photographer,
        "new_violations": new_violations,
        "holds": {
            "placed": int(held_events.get("placed", {}).get("photos", 0)),
            "lifted": int(held_events.get("lifted", {}).get("photos", 0)),
            "cases_paused": int(held_events.get("placed", {}).get("cases", 0)),
            "cases_resumed": int(held_events.get("lifted", {}).get("cases", 0)),
            "photos_on_hold_now": int(on_hold),
        },
        "stock_contributor_infringements": infringements,
    }


def _table(rows: list[dict], columns: list[str] | None = None) -> str:
    if not rows:
        return "_none_\n"
    columns = columns or list(rows[0])
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c)
            cells.append("" if value is None else str(value).replace("|", "\\|").replace("\n", " "))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def render_markdown(report: dict) -> str:
    holds = report["holds"]
    parts = [
        f"# Exclusivity audit, {report['as_of']}\n",
        f"{report['listings_checked']} listings checked; {len(report['new_violations'])} new violations; "
        f"holds placed {holds['placed']}, lifted {holds['lifted']}; photos on hold now {holds['photos_on_hold_now']}.\n",
        "## Listings checked per site\n",
        _table(report["sites"]),
        "## Listings that could not be checked\n",
        _table(report["failures"]),
        "## Feed problems\n",
        _table(report["feed_errors"]),
        "## New violations (the photographer's own listings)\n",
        _table(report["new_violations"]),
        "## Violations by site\n",
        _table(report["violations_by_site"]),
        "## Violations by photographer\n",
        _table(report["violations_by_photographer"]),
        "## Holds\n",
        _table([{"placed": holds["placed"], "lifted": holds["lifted"], "cases paused": holds["cases_paused"],
                 "cases resumed": holds["cases_resumed"], "on hold now": holds["photos_on_hold_now"]}]),
        "## Copies listed by other stock contributors (infringement)\n",
        _table(report["stock_contributor_infringements"]),
        "\nDecide a violation with `lightbox violations confirm ID --by WHO` or "
        "`lightbox violations dismiss ID --by WHO --note WHY` (a dismissal lifts the hold).\n",
    ]
    return "\n".join(parts)


def write_report(conn, as_of: datetime, since: datetime | None = None) -> str:
    """Store the report of the audit ``as_of`` (table row and Markdown); returns its URI."""
    from psycopg2.extras import Json

    from lightbox.config import settings
    from lightbox.objects import join, put_bytes

    report = build_report(conn, as_of, since)
    markdown = render_markdown(report)
    uri = join(settings().object_store, "reports", "exclusivity", as_of.strftime("%Y-%m-%dT%H%M%SZ") + ".md")
    put_bytes(uri, markdown.encode())
    with conn.cursor() as cur:
        cur.execute(
            """
            insert into exclusivity.audit_reports (as_of, report, report_uri, written_at)
            values (%s, %s, %s, %s)
            on conflict (as_of) do update set report = excluded.report, report_uri = excluded.report_uri,
                written_at = excluded.written_at
            """,
            (as_of, Json(json.loads(json.dumps(report, default=str))), uri, as_of),
        )
    conn.commit()
    return uri

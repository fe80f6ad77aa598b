"""The sweep report a person reads: pages fetched, images seen, matches by status and method,
new and paused cases, failures by reason (the reason of each URL's last attempt) and the
retries that transient failures cost (how many URLs were retried, how many recovered). Stored in ``infringement.sweeps.report``, as JSON
and text in the object store, and logged."""
from __future__ import annotations

import json
import logging
from datetime import datetime

from lightbox.crawl.frontier import failures_by_reason, retries
from lightbox.objects import join, put_bytes

log = logging.getLogger(__name__)


def _rows(cur, sql: str, args) -> list:
    cur.execute(sql, args)
    return cur.fetchall()


def build_report(conn, sweep_id: str, as_of: datetime) -> dict:
    with conn.cursor() as cur:
        frontier = {
            (kind, status): n
            for kind, status, n in _rows(cur, """select kind, status, count(*) from infringement.crawl_frontier
                                             where sweep_id = %s group by 1, 2""", (sweep_id,))
        }
        images_seen = _rows(cur, "select count(distinct image_url) from infringement.crawl_image_refs where sweep_id = %s", (sweep_id,))[0][0]
        by_status = dict(_rows(cur, "select status, count(*) from infringement.matches where sweep_id = %s group by 1 order by 1", (sweep_id,)))
        by_method = dict(_rows(cur, "select method, count(*) from infringement.matches where sweep_id = %s group by 1 order by 1", (sweep_id,)))
        new_cases = [
            {"case_id": c, "photo_id": p, "owner_id": o, "infringer_domain": d, "evidence_uri": e}
            for c, p, o, d, e in _rows(cur, """select case_id, photo_id, owner_id, infringer_domain, evidence_uri
                                               from infringement.cases where opened_at = %s order by case_id""", (as_of,))
        ]
        changed = [
            {"case_id": c, "status": s, "reason": r}
            for c, s, r in _rows(cur, """select case_id, status, reason from infringement.partner_outbox
                                         where created_at = %s and event = 'status_changed' order by case_id""", (as_of,))
        ]
        outbox = _rows(cur, "select count(*) from infringement.partner_outbox where created_at = %s", (as_of,))[0][0]
    pages = {s: frontier.get(("page", s), 0) for s in ("fetched", "failed", "skipped", "pending")}
    images = {s: frontier.get(("image", s), 0) for s in ("fetched", "failed", "skipped", "pending")}
    return {
        "sweep_id": sweep_id,
        "as_of": as_of.isoformat(),
        "pages": pages,
        "pages_fetched": pages["fetched"],
        "images_seen": images_seen,
        "images": images,
        "matches_by_status": by_status,
        "matches_by_method": by_method,
        "new_cases": new_cases,
        "status_changes": changed,
        "outbox_messages": outbox,
        "failures_by_reason": failures_by_reason(conn, sweep_id),
        "retries": retries(conn, sweep_id),
    }


def render(report: dict) -> str:
    lines = [
        f"Infringement sweep {report['sweep_id']} (as of {report['as_of']})",
        "",
        f"Pages fetched: {report['pages']['fetched']}  (failed {report['pages']['failed']}, "
        f"skipped by robots.txt {report['pages']['skipped']}, still pending {report['pages']['pending']})",
        f"Images seen: {report['images_seen']}  (fetched {report['images']['fetched']}, failed {report['images']['failed']}, "
        f"skipped {report['images']['skipped']})",
        "Matches by status: " + (", ".join(f"{k} {v}" for k, v in report["matches_by_status"].items()) or "none"),
        "Matches by method: " + (", ".join(f"{k} {v}" for k, v in report["matches_by_method"].items()) or "none"),
        f"New cases: {len(report['new_cases'])}",
    ]
    for case in report["new_cases"]:
        lines.append(f"  {case['case_id']}  photo {case['photo_id']} on {case['infringer_domain']}  evidence {case['evidence_uri']}")
    if report["status_changes"]:
        lines.append(f"Status changes: {len(report['status_changes'])}")
        for change in report["status_changes"]:
            lines.append(f"  {change['case_id']} -> {change['status']} ({change['reason']})")
    lines.append(f"Partner outbox messages: {report['outbox_messages']}")
    lines.append("Failures by reason: " + (", ".join(f"{k} {v}" for k, v in report["failures_by_reason"].items()) or "none"))
    tried = report.get("retries") or {}
    lines.append(
        f"Retries: {tried.get('retries', 0)} for {tried.get('urls_retried', 0)} URLs after transient failures; "
        f"{tried.get('recovered', 0)} of them fetched in the end, {tried.get('still_waiting', 0)} still waiting"
    )
    return "\n".join(lines) + "\n"


def write_report(conn, sweep_id: str, as_of: datetime, settings=None) -> dict:
    """Build, store and log the report; returns it with ``report_uri``."""
    if settings is None:
        from lightbox.config import settings as current

        settings = current()
    report = build_report(conn, sweep_id, as_of)
    base = join(settings.object_store, "reports", "infringement_sweep")
    name = sweep_id.replace(":", "").replace("+", "_")
    uri = put_bytes(join(base, f"{name}.json"), json.dumps(report, indent=1, default=str).encode())
    text = render(report)
    put_bytes(join(base, f"{name}.txt"), text.encode())
    with conn.cursor() as cur:
        cur.execute(
            """update infringement.sweeps set report = %s::jsonb, report_uri = %s, finished_at = now()
               where sweep_id = %s""",
            (json.dumps(report, default=str), uri, sweep_id),
        )
    if not conn.autocommit:
        conn.commit()
    log.info("%s", text)
    return report | {"report_uri": uri}

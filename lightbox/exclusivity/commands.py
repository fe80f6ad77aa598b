"""``lightbox violations list|confirm|dismiss|report``: people review what the exclusivity
audit found. A dismissal (with a note saying why) lifts the photo's hold once none of its
violations is open or confirmed."""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("violations", help="exclusivity violations: list, confirm, dismiss, report")
    sub = p.add_subparsers(dest="violations_command", metavar="ACTION", required=True)

    ls = sub.add_parser("list", help="violations, newest first")
    ls.add_argument("--status", choices=["open", "confirmed", "dismissed", "all"], default="all")
    ls.add_argument("--site")
    ls.add_argument("--photo")
    ls.add_argument("--limit", type=int, default=50)
    ls.set_defaults(func=cmd_list)

    for name, help_ in (("confirm", "confirm a violation (the photo stays on hold)"),
                        ("dismiss", "dismiss a violation (lifts the hold when no other is open)")):
        d = sub.add_parser(name, help=help_)
        d.add_argument("violation_id", type=int, metavar="ID")
        d.add_argument("--by", required=True, help="who decides")
        d.add_argument("--note", required=(name == "dismiss"), help="why (required to dismiss)")
        d.set_defaults(func=cmd_decide, decision="confirmed" if name == "confirm" else "dismissed")

    r = sub.add_parser("report", help="print the latest audit report (Markdown)")
    r.set_defaults(func=cmd_report)


def cmd_list(args) -> int:
    from lightbox import db

    where, params = [], []
    if args.status != "all":
        where.append("v.status = %s")
        params.append(args.status)
    if args.site:
        where.append("v.site = %s")
        params.append(args.site)
    if args.photo:
        where.append("v.photo_id = %s")
        params.append(args.photo)
    sql = (
        "select v.violation_id, v.status, v.photo_id, p.owner_id, v.site, v.contributor, round(v.distance, 2),"
        " v.method, v.listing_predates_upload, v.detected_at, v.listing_url"
        " from exclusivity.violations as v left join raw.photos as p using (photo_id)"
        + (" where " + " and ".join(where) if where else "")
        + " order by v.detected_at desc, v.violation_id desc limit %s"
    )
    params.append(args.limit)
    conn = db.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
    finally:
        conn.close()
    header = ("id", "status", "photo", "owner", "site", "contributor", "dist", "method", "predates", "detected_at", "listing")
    table = [header] + [tuple("" if v is None else str(v) for v in row) for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header) - 1)]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1])
    if not rows:
        print("(no violations)")
    return 0


def cmd_decide(args) -> int:
    from lightbox import db
    from lightbox.exclusivity.holds import DecisionError, decide

    conn = db.connect()
    try:
        result = decide(conn, args.violation_id, args.decision, args.by, args.note, datetime.now(timezone.utc))
    except DecisionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        conn.close()
    holds = result["holds"]
    print(f"violation {result['violation_id']} ({result['photo_id']} on {result['site']}): {result['status']}")
    if holds["lifted"]:
        print(f"hold lifted on {holds['lifted']} photo(s); paused cases resumed")
    elif result["status"] == "dismissed":
        print("the photo stays on hold while another violation is open or confirmed")
    return 0


def cmd_report(args) -> int:
    from lightbox import db

    conn = db.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select as_of, report_uri from exclusivity.audit_reports order by as_of desc limit 1")
            row = cur.fetchone()
    finally:
        conn.close()
    if row is None:
        print("no exclusivity audit has run yet")
        return 1
    from lightbox.objects import get_bytes

    print(get_bytes(row[1]).decode())
    return 0

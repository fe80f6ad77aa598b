"""``lightbox cases`` (a photographer's cases and their status), ``lightbox sweep-report``
(the latest infringement sweep report, as a person reads it) and ``lightbox sweep`` (one
sweep without Airflow, e.g. to try seeds)."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("cases", help="infringement cases (a photographer's, with --photographer)")
    p.add_argument("--photographer", help="owner (user) id")
    p.add_argument("--status", help="open, sent_to_partner, paused, settled, dismissed, closed")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(func=cmd_cases)

    r = subparsers.add_parser("sweep-report", help="the report of the latest (or a given) infringement sweep")
    r.add_argument("--sweep", help="sweep id (its as_of, ISO 8601)")
    r.add_argument("--json", action="store_true", help="print the JSON report")
    r.set_defaults(func=cmd_report)

    s = subparsers.add_parser("sweep", help="run one infringement sweep in this process (no Airflow)")
    s.add_argument("--as-of", required=True, help="the sweep's as_of (ISO 8601), e.g. the sample data's as_of")
    s.add_argument("--max-shards", type=int, default=4)
    s.set_defaults(func=cmd_sweep)


def cmd_cases(args) -> int:
    from lightbox import db

    where, params = [], []
    if args.photographer:
        where.append("photographer_id = %s")
        params.append(args.photographer)
    if args.status:
        where.append("status = %s")
        params.append(args.status)
    sql = ("select case_id, photographer_id, photo_id, infringer_domain, status, coalesce(status_reason, ''),"
           " opened_at::date, last_seen_at::date, pages_found, coalesce(evidence_uri, '')"
           " from infringement.photographer_cases"
           + (" where " + " and ".join(where) if where else "")
           + " order by opened_at desc, case_id limit %s")
    with db.transaction() as conn, conn.cursor() as cur:
        cur.execute(sql, (*params, args.limit))
        rows = cur.fetchall()
    if not rows:
        print("no cases")
        return 0
    header = ("case", "photographer", "photo", "infringer", "status", "reason", "opened", "last seen", "pages", "evidence")
    table = [header, *[tuple(str(v) for v in row) for row in rows]]
    widths = [max(len(r[i]) for r in table) for i in range(len(header) - 1)]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1])
    return 0


def cmd_report(args) -> int:
    import json

    from lightbox import db
    from lightbox.infringement.report import render

    with db.transaction() as conn, conn.cursor() as cur:
        if args.sweep:
            cur.execute("select report from infringement.sweeps where sweep_id = %s and report is not null", (args.sweep,))
        else:
            cur.execute("select report from infringement.sweeps where report is not null order by as_of desc limit 1")
        row = cur.fetchone()
    if row is None:
        print("no sweep report yet")
        return 1
    print(json.dumps(row[0], indent=1) if args.json else render(row[0]), end="" if not args.json else "\n")
    return 0


def cmd_sweep(args) -> int:
    from lightbox.infringement import sweep
    from lightbox.infringement.report import render

    report = sweep.run_sweep(args.as_of, max_shards=args.max_shards)
    print(render(report), end="")
    return 0

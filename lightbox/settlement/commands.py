"""``lightbox settlement summary|discrepancies|reconcile``: the reconciliation as finance
reads it, and a manual run outside Airflow."""
from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("settlement", help="settlement reconciliation: summary, discrepancies, reconcile")
    sub = p.add_subparsers(dest="settlement_command", metavar="ACTION", required=True)

    s = sub.add_parser("summary", help="per partner report: lines, matched, credited, discrepancies, totals")
    s.add_argument("--partner")
    s.add_argument("--report", help="report id")
    s.add_argument("--json", action="store_true", help="print JSON instead of a table")
    s.set_defaults(func=cmd_summary)

    d = sub.add_parser("discrepancies", help="report lines that did not reconcile, with their kind")
    d.add_argument("--partner")
    d.add_argument("--report", help="report id")
    d.add_argument("--kind")
    d.add_argument("--limit", type=int, default=200)
    d.set_defaults(func=cmd_discrepancies)

    r = sub.add_parser("reconcile", help="run the reconciliation once (what the DAG does)")
    r.add_argument("--as-of", required=True,
                   help="ISO timestamp the postings and credits are dated (the DAG uses its data interval end)")
    r.set_defaults(func=cmd_reconcile)


def _where(args, alias: str = "") -> tuple[str, list]:
    clauses, params = [], []
    for column, value in (("partner", args.partner), ("report_id", args.report), ("kind", getattr(args, "kind", None))):
        if value:
            clauses.append(f"{alias}{column} = %s")
            params.append(value)
    return (" where " + " and ".join(clauses)) if clauses else "", params


def summary_rows(args) -> list[dict]:
    from lightbox import db

    where, params = _where(args)
    with db.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            "select partner, report_id, lines, matched, credited, discrepant_lines, rejected_at_ingest, "
            "discrepancies_by_kind, totals_by_currency, reported_gross_usd, credited_usd, summarised_at "
            f"from settlement.report_summaries{where} order by partner, report_id",
            params,
        )
        names = [c.name for c in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


def cmd_summary(args) -> int:
    rows = summary_rows(args)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    if not rows:
        print("no settlement reports reconciled yet (run settlement_reconcile)")
        return 0
    header = f"{'partner':<14}{'report':<16}{'lines':>6}{'matched':>8}{'credited':>9}{'discr.':>7}{'credited USD':>14}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['partner']:<14}{r['report_id']:<16}{r['lines']:>6}{r['matched']:>8}{r['credited']:>9}"
              f"{r['discrepant_lines']:>7}{r['credited_usd']:>14}")
        for currency, t in sorted(r["totals_by_currency"].items()):
            print(f"{'':<30}{currency}: gross {t['posted_gross']} = fee {t['partner_fee']} + photographers "
                  f"{t['photographer']} + platform {t['platform']} ({t['posted']} of {t['lines']} lines posted)")
        if r["discrepancies_by_kind"]:
            kinds = ", ".join(f"{k} {n}" for k, n in sorted(r["discrepancies_by_kind"].items()))
            print(f"{'':<30}discrepancies: {kinds}")
    return 0


def cmd_discrepancies(args) -> int:
    from lightbox import db

    where, params = _where(args)
    with db.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            "select partner, report_id, line_id, kind, is_blocking, detail from settlement.discrepancies"
            f"{where} order by partner, report_id, line_id, kind limit %s",
            [*params, args.limit],
        )
        rows = cur.fetchall()
    for partner, report_id, line_id, kind, blocking, detail in rows:
        flag = "" if blocking else " (credited once; for information)"
        print(f"{partner}/{report_id}/{line_id}  {kind}{flag}: {detail}")
    if not rows:
        print("no discrepancies")
    return 0


def cmd_reconcile(args) -> int:
    from datetime import datetime

    from lightbox.settlement.reconcile import reconcile

    as_of = datetime.fromisoformat(args.as_of)
    if as_of.tzinfo is None:
        raise SystemExit("--as-of needs a UTC offset, e.g. 2026-10-31T00:00:00+00:00")
    return reconcile(as_of)

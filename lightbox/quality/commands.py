"""``lightbox quality run|results|docs``: run suites outside Airflow, read the history of
``quality.results``, and find the Data Docs site."""
from __future__ import annotations

import argparse
from datetime import datetime, timezone


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("quality", help="data quality: run suites, results history, Data Docs")
    sub = p.add_subparsers(dest="quality_command", metavar="ACTION", required=True)

    r = sub.add_parser("run", help="run the suites of one stage (or all) and build Data Docs")
    r.add_argument("--stage", help="raw, scores, matches, ledger or replication (default: every suite)")
    r.add_argument("--as-of", help="ISO timestamp the suites judge (default: now)")
    r.add_argument("--run-id", help="default: cli__<now>")
    r.set_defaults(func=cmd_run)

    h = sub.add_parser("results", help="the latest suite runs, newest first")
    h.add_argument("--suite")
    h.add_argument("--limit", type=int, default=30)
    h.set_defaults(func=cmd_results)

    d = sub.add_parser("docs", help="where the Data Docs site is")
    d.set_defaults(func=cmd_docs)


def cmd_run(args) -> int:
    from lightbox.quality.runner import run_suites
    from lightbox.quality.suites import SUITES, stage_suites

    now = datetime.now(timezone.utc)
    as_of = datetime.fromisoformat(args.as_of) if args.as_of else now
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=timezone.utc)
    suites = stage_suites(args.stage) if args.stage else list(SUITES.values())
    results = run_suites(suites, args.run_id or f"cli__{now.isoformat()}", as_of)
    for r in results:
        print(("ok      " if r.success else f"FAILED  {r.severity:<8} ") + r.summary)
        if r.docs_uri and not r.success:
            print(f"        {r.docs_uri}")
    return 1 if any(not r.success and r.severity == "critical" for r in results) else 0


def cmd_results(args) -> int:
    from lightbox import db

    sql = "select run_at, run_id, suite, severity, success, evaluated, failed from quality.results"
    params: list = []
    if args.suite:
        sql += " where suite = %s"
        params.append(args.suite)
    sql += " order by run_at desc, suite limit %s"
    params.append(args.limit)
    with db.transaction() as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        for run_at, run_id, suite, severity, success, evaluated, failed in cur.fetchall():
            state = "ok" if success else "FAILED"
            print(f"{run_at:%Y-%m-%d %H:%M}  {suite:<24} {severity:<8} {state:<6} {failed}/{evaluated} failed  {run_id}")
    return 0


def cmd_docs(args) -> int:
    from lightbox.quality.runner import DOCS_URL, docs_index

    index = docs_index()
    print(f"{index}{'' if index.exists() else ' (not built yet: run quality_report or `lightbox quality run`)'}")
    print(f"served by `lightbox up` at {DOCS_URL}")
    return 0

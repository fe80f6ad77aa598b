"""The quality report: every suite of every stage, then the whole Data Docs site."""
from __future__ import annotations


def run_report(run_id: str, as_of) -> dict:
    """Run every suite (nothing raises: the report records and shows); rebuild Data Docs."""
    from lightbox.quality.gates import _as_datetime
    from lightbox.quality.runner import docs_index, run_suites
    from lightbox.quality.suites import SUITES

    results = run_suites(list(SUITES.values()), run_id, _as_datetime(as_of), build_docs="results")
    failed = [r for r in results if not r.success]
    for r in results:
        state = "ok" if r.success else f"{r.severity.upper()} FAILED"
        print(f"lightbox-summary: quality {state} {r.summary}")
    return {
        "suites": len(results),
        "failed": len(failed),
        "critical_failed": sum(r.severity == "critical" for r in failed),
        "docs": str(docs_index()),
    }


def latest_results(conn, limit: int = 50) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(
            """select run_at, run_id, suite, severity, success, evaluated, failed, docs_uri
               from quality.results order by run_at desc, suite limit %s""", (limit,))
        return cur.fetchall()


"""Two reconciliations at once against the real PostgreSQL: nothing is posted or credited
twice, with the advisory lock and (for the posting steps) without it, where only the
database's unique constraints stand between the runs."""
from __future__ import annotations

import threading
from datetime import timedelta

from lightbox import db
from lightbox.settlement import reconcile as rec

from . import synthetic
from .conftest import AS_OF


def _run_together(*calls):
    barrier = threading.Barrier(len(calls))
    errors, results = [], []

    def run(call):
        barrier.wait()
        try:
            results.append(call())
        except Exception as exc:  # noqa: BLE001 - reported by the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


def _totals(cur):
    cur.execute(
        "select (select count(*) from settlement.transactions), (select count(*) from settlement.credits), "
        "(select count(distinct (partner, report_id, line_id)) from settlement.credits), "
        "(select count(*) from settlement.ledger), "
        "(select count(*) from (select txn_id, currency from settlement.ledger group by 1, 2 "
        "  having sum(amount) <> 0 or sum(amount_usd) <> 0) as x), "
        "(select count(*) from settlement.line_matches where is_reconcilable or is_posted)"
    )
    return cur.fetchone()


def test_concurrent_reconciliations_credit_each_line_once(conn, db_url):
    with db.transaction(db_url) as tx, tx.cursor() as cur:
        synthetic.generate(cur, 3000)
    results = _run_together(
        lambda: rec.reconcile(AS_OF, url=db_url),
        lambda: rec.reconcile(AS_OF + timedelta(minutes=1), url=db_url),
    )
    posted = sorted(r["post_ledger"]["settlements"] + r["post_ledger"]["reversals"] for r in results)
    with conn.cursor() as cur:
        txns, credits, keys, entries, unbalanced, reconciled = _totals(cur)
    assert posted[0] == 0 and posted[1] == txns > 2000
    assert txns == credits == keys == reconciled
    assert unbalanced == 0


def test_concurrent_posting_without_the_lock_is_stopped_by_the_database(conn, db_url):
    with db.transaction(db_url) as tx, tx.cursor() as cur:
        synthetic.generate(cur, 3000)
    rec.match_lines(AS_OF, url=db_url)

    def post_and_credit():
        posted = rec.post_ledger(AS_OF, url=db_url, lock=False)
        credited = rec.credit_photographers(AS_OF, url=db_url, lock=False)
        return posted["settlements"] + posted["reversals"], credited["credits"]

    results = _run_together(post_and_credit, post_and_credit, post_and_credit)
    with conn.cursor() as cur:
        txns, credits, keys, entries, unbalanced, reconciled = _totals(cur)
    assert sum(p for p, _ in results) == txns == reconciled
    assert sum(c for _, c in results) == credits == keys == txns
    assert unbalanced == 0

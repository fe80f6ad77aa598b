"""settlement_reconcile runs with dag.test() against the test database, twice: the second
run posts nothing new."""
from __future__ import annotations

from decimal import Decimal

import pytest

from .conftest import add_case, add_rate, deliver, line

pytestmark = pytest.mark.slow


def test_dag_credits_once_and_lists_discrepancies(conn, run_dag):
    with conn.cursor() as cur:
        add_case(cur, "C1", "P1", "U1", "shop.example.com")
        add_rate(cur, "2026-01-20", "EUR", "1.1")
        deliver(cur, 1, [
            line("L1", "100.00", "EUR", "10.00", case_ref="C1"),
            line("L2", "20.00", "USD", "0", photo_id="P1", domain="www.example.com"),
            line("L3", "20.00", "USD", "0", case_ref="nope"),
        ])
    dag_run, states = run_dag("settlement_reconcile")
    assert states == {
        t: "success" for t in ("match_lines", "post_ledger", "credit_photographers", "validate_ledger", "summarise_reports")
    }
    with conn.cursor() as cur:
        cur.execute("select line_id, amount, currency from settlement.credits order by 1")
        assert cur.fetchall() == [("L1", Decimal("45.00"), "EUR"), ("L2", Decimal("10.00"), "USD")]
        cur.execute("select line_id, kind from settlement.discrepancies")
        assert cur.fetchall() == [("L3", "unmatched_case")]
        cur.execute("select count(*) from settlement.ledger")
        (entries,) = cur.fetchone()
        cur.execute("select distinct posted_at from settlement.ledger")
        assert len(cur.fetchall()) == 1

    _, states = run_dag("settlement_reconcile")
    assert set(states.values()) == {"success"}
    with conn.cursor() as cur:
        cur.execute("select (select count(*) from settlement.ledger), (select count(*) from settlement.credits)")
        assert cur.fetchone() == (entries, 2)
        cur.execute("select lines, credited, discrepant_lines from settlement.report_summaries")
        assert cur.fetchall() == [(3, 2, 1)]

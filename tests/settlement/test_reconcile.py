"""Reconciliation against the real PostgreSQL: every discrepancy kind, the money split,
the ledger's rules, exactly-once crediting and the finance summary."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import psycopg2
import pytest

from lightbox.settlement import reconcile as rec

from .conftest import AS_OF, add_case, add_hold, add_rate, deliver, line


def _scenario(cur):
    add_case(cur, "C1", "P1", "U1", "shop.example.co.uk")
    add_case(cur, "C2", "P2", "U2", "blog.infringer.com")
    add_case(cur, "C3", "P3", "U3", "bad.com", status="dismissed")
    add_case(cur, "C4", "P4", "U4", "held.com")
    add_case(cur, "C5", "P5", "U5", "late.com", opened_at="2026-01-25T00:00:00Z")
    add_hold(cur, "P4")
    for cur_code, rate in (("EUR", "1.1"), ("JPY", "0.0067"), ("KWD", "3.25")):
        add_rate(cur, "2026-01-20", cur_code, rate)
    add_rate(cur, "2026-01-19", "GBP", "1.26")  # priced, but not on L9's collection date
    add_rate(cur, "2026-01-19", "CHF", "1.13")
    deliver(cur, 1, [
        line("L1", "100.00", "USD", "20.00", case_ref="C1"),
        line("L2", "10001", "JPY", "0", photo_id="P2", domain="WWW.Infringer.com"),
        line("L3", "50.00", case_ref="NOPE"),
        line("L4", "50.00", case_ref="C3"),
        line("L5", "50.00", photo_id="P4", domain="held.com"),
        line("L6", "50.00", case_ref="C1", photo_id="P9"),
        line("L7", "40.00", "EUR", "50.00", case_ref="C2"),
        line("L8", "-5.00", "EUR", "0", case_ref="C2"),
        line("L9", "30.00", "GBP", "0", case_ref="C2"),
        line("L10", "30.00", "XXQ", "0", case_ref="C2"),
        line("L11", "30.00", "USD", "0", case_ref="C5"),
        line("L12", "10.001", "KWD", "0.000", case_ref="C2"),
        line("L13", "-100.00", "USD", "-20.00", reverses="L1"),
        line("L15", "12.345", "EUR", "0", case_ref="C2"),
        line("L16", "30.00", "SEK", "0", case_ref="C2"),  # ISO, but never priced
    ])
    # L2's content again in another report, and L1 re-delivered in another file
    deliver(cur, 2, [
        line("L14", "10001", "JPY", "0", report_id="r2", photo_id="P2", domain="WWW.Infringer.com"),
        line("L1", "100.00", "USD", "20.00", case_ref="C1"),
    ])
    cur.execute(
        "insert into raw.quarantine (source, file, file_sha256, line, reason, payload) values "
        "('settlement_reports', 'settlement_reports/f3.csv', 'abc', 7, 'gross_amount: \"x\" is not a number', "
        "'p1,r3,L99,C1,P1,shop.example.co.uk,x,USD,0,2026-01-20T10:00:00Z')"
    )


def _kinds(cur):
    cur.execute("select line_id, kind, is_blocking from settlement.discrepancies order by 1, 2")
    return {(line_id, kind): blocking for line_id, kind, blocking in cur.fetchall()}


def test_reconcile_credits_good_lines_and_lists_every_defect(cur, db_url):
    _scenario(cur)
    result = rec.reconcile(AS_OF, share=Decimal("0.50"), url=db_url)
    assert result["post_ledger"]["settlements"] == 3
    assert result["post_ledger"]["reversals"] == 1

    cur.execute("select line_id, photographer_id, case_id, amount, currency, credited_at from settlement.credits order by 1")
    credits = {r[0]: r[1:] for r in cur.fetchall()}
    assert credits == {
        "L1": ("U1", "C1", Decimal("40.00"), "USD", AS_OF),
        "L12": ("U2", "C2", Decimal("5.000"), "KWD", AS_OF),  # 5.0005 → 5.000 (half to even)
        "L13": ("U1", "C1", Decimal("-40.00"), "USD", AS_OF),
        "L2": ("U2", "C2", Decimal("5000"), "JPY", AS_OF),  # 5000.5 → 5000
    }
    kinds = _kinds(cur)
    assert kinds == {
        ("L1", "duplicate_line"): False,
        ("L10", "unknown_currency"): True,
        ("L11", "collected_before_case_opened"): True,
        ("L14", "duplicate_line"): True,
        ("L15", "amount_precision_exceeds_currency"): True,
        ("L16", "unknown_currency"): True,
        ("L3", "unmatched_case"): True,
        ("L4", "case_not_payable"): True,
        ("L5", "case_not_payable"): True,
        ("L6", "photo_mismatch"): True,
        ("L7", "fee_exceeds_gross"): True,
        ("L8", "non_positive_gross_without_reversal"): True,
        ("L9", "missing_fx_rate"): True,
        ("L99", "rejected_at_ingest"): True,
    }
    # the split: parts sum to the gross, platform takes the residue, USD kept too
    cur.execute(
        "select line_id, gross_amount, partner_fee, photographer_amount, platform_amount, gross_usd, "
        "reverses_txn_id is not null from settlement.transactions order by txn_id"
    )
    rows = {r[0]: r[1:] for r in cur.fetchall()}
    assert rows["L2"] == (Decimal("10001"), Decimal("0"), Decimal("5000"), Decimal("5001"), Decimal("67.01"), False)
    assert rows["L13"][:4] == (Decimal("-100.00"), Decimal("-20.00"), Decimal("-40.00"), Decimal("-40.00"))
    assert rows["L13"][5] is True
    # every transaction balances per currency and in USD
    cur.execute(
        "select count(*) from (select txn_id, currency from settlement.ledger group by 1, 2 "
        "having sum(amount) <> 0 or sum(amount_usd) <> 0) as x"
    )
    assert cur.fetchone() == (0,)
    cur.execute("select sum(amount) from settlement.ledger where account = 'photographer_payable:U1'")
    assert cur.fetchone() == (Decimal("0.00"),)

    cur.execute("select lines, matched, credited, discrepant_lines, rejected_at_ingest, discrepancies_by_kind, "
                "totals_by_currency from settlement.report_summaries where report_id = 'r1'")
    lines, matched, credited, discrepant, rejected, by_kind, totals = cur.fetchone()
    assert (lines, credited, rejected) == (15, 4, 0)
    assert discrepant == 11
    assert by_kind["case_not_payable"] == 2
    assert Decimal(str(totals["USD"]["photographer"])) == Decimal("0.00")
    assert Decimal(str(totals["JPY"]["platform"])) == Decimal("5001")


def test_second_run_posts_nothing_new(cur, db_url):
    _scenario(cur)
    rec.reconcile(AS_OF, url=db_url)
    cur.execute("select (select count(*) from settlement.ledger), (select count(*) from settlement.credits), "
                "(select count(*) from settlement.discrepancies)")
    before = cur.fetchone()
    again = rec.reconcile(AS_OF + timedelta(days=1), url=db_url)
    assert again["post_ledger"] == {"settlements": 0, "reversals": 0, "entries": 0}
    assert again["credit_photographers"] == {"credits": 0}
    cur.execute("select (select count(*) from settlement.ledger), (select count(*) from settlement.credits), "
                "(select count(*) from settlement.discrepancies), "
                "(select count(*) from settlement.discrepancies where detected_at <> %s)", (AS_OF,))
    assert cur.fetchone() == (*before, 0)


def test_ledger_and_credits_are_insert_only_and_unique(cur, db_url):
    _scenario(cur)
    rec.reconcile(AS_OF, url=db_url)
    for statement in (
        "update settlement.ledger set amount = amount + 1",
        "delete from settlement.ledger",
        "truncate settlement.ledger",
        "update settlement.credits set amount = 0",
        "delete from settlement.transactions",
    ):
        with pytest.raises(psycopg2.Error, match="insert-only"):
            cur.execute(statement)
    with pytest.raises(psycopg2.errors.UniqueViolation):
        cur.execute(
            "insert into settlement.credits (photographer_id, case_id, amount, currency, amount_usd, credited_at, "
            "source, partner, report_id, line_id, txn_id) values ('U1', 'C1', 40, 'USD', 40, now(), 'x', 'p1', 'r1', 'L1', 999)"
        )
    with pytest.raises(psycopg2.errors.CheckViolation, match="unbalanced"):
        cur.execute(
            "insert into settlement.ledger (txn_id, account, amount, currency, amount_usd, posted_at, source) "
            "values (1, 'a', 1, 'USD', 1, now(), 'x'), (1, 'b', -2, 'USD', -2, now(), 'x')"
        )


def test_reversal_before_its_original_waits_then_posts(cur, db_url):
    add_case(cur, "C1", "P1", "U1", "example.com")
    deliver(cur, 1, [line("R1", "-10.00", fee="0.00", reverses="L1")])
    rec.reconcile(AS_OF, url=db_url)
    assert _kinds(cur) == {("R1", "reversal_target_not_found"): True}
    deliver(cur, 2, [line("L1", "10.00", fee="0.00", case_ref="C1")])
    result = rec.reconcile(AS_OF + timedelta(days=1), url=db_url)
    assert (result["post_ledger"]["settlements"], result["post_ledger"]["reversals"]) == (1, 1)
    assert _kinds(cur) == {}
    cur.execute("select sum(amount), count(*) from settlement.credits")
    assert cur.fetchone() == (Decimal("0.00"), 2)


def test_changed_redelivery_after_posting_is_listed_not_reposted(cur, db_url):
    add_case(cur, "C1", "P1", "U1", "example.com")
    deliver(cur, 1, [line("L1", "10.00", case_ref="C1")])
    rec.reconcile(AS_OF, url=db_url)
    deliver(cur, 2, [line("L1", "12.00", case_ref="C1")])
    rec.reconcile(AS_OF, url=db_url)
    assert _kinds(cur) == {("L1", "changed_after_posting"): False, ("L1", "duplicate_line"): False}
    cur.execute("select amount from settlement.credits")
    assert cur.fetchall() == [(Decimal("5.00"),)]


def test_crash_between_steps_is_completed_by_the_next_run(cur, db_url):
    add_case(cur, "C1", "P1", "U1", "example.com")
    deliver(cur, 1, [line("L1", "10.00", case_ref="C1"), line("L2", "7.00", case_ref="C1")])
    rec.match_lines(AS_OF, url=db_url)
    rec.post_ledger(AS_OF, url=db_url)  # "crash" before crediting
    cur.execute("select count(*) from settlement.credits")
    assert cur.fetchone() == (0,)
    rec.reconcile(AS_OF + timedelta(hours=1), url=db_url)
    cur.execute("select line_id, amount from settlement.credits order by 1")
    assert cur.fetchall() == [("L1", Decimal("5.00")), ("L2", Decimal("3.50"))]
    cur.execute("select count(*) from settlement.transactions")
    assert cur.fetchone() == (2,)


def test_cli_summary_and_discrepancies(cur, db_url, capsys):
    from lightbox.cli import main

    _scenario(cur)
    assert main(["settlement", "reconcile", "--as-of", AS_OF.isoformat()]) == 0
    capsys.readouterr()
    assert main(["settlement", "summary"]) == 0
    out = capsys.readouterr().out
    assert "p1" in out and "r1" in out and "case_not_payable 2" in out
    assert main(["settlement", "discrepancies", "--kind", "photo_mismatch"]) == 0
    assert capsys.readouterr().out.startswith("p1/r1/L6  photo_mismatch: line is for photo P9")

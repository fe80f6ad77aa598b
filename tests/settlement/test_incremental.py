"""Incremental reconciliation: a run evaluates only the lines that are new or changed, or
whose case, hold or rate changed, and ends with the ledger, credits, discrepancies and
summaries that one run from scratch over the same data gives. Also the sanity checks that
make a line a discrepancy rather than a credit: an amount beyond the ceiling, a case_ref of
another site's case."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from lightbox import db
from lightbox.settlement import reconcile as rec

from .conftest import AS_OF, add_case, add_hold, add_rate, deliver, line


def _day1(cur):
    add_case(cur, "C1", "P1", "U1", "a.com")
    add_case(cur, "C2", "P2", "U2", "b.com")
    add_case(cur, "C3", "P3", "U3", "c.com")
    add_rate(cur, "2026-01-20", "EUR", "1.10")
    deliver(cur, 1, [
        line("L1", "100.00", "USD", "20.00", case_ref="C1"),
        line("L2", "40.00", "EUR", "4.00", case_ref="C2"),
        line("L3", "30.00", "GBP", "0", case_ref="C1"),  # no GBP rate yet
        line("L4", "25.00", case_ref="C9"),  # no such case yet
        line("L5", "60.00", photo_id="P1", domain="www.a.com"),
    ])


def _day2(cur):
    add_case(cur, "C9", "P9", "U9", "d.com")  # L4 now matches
    add_rate(cur, "2026-01-20", "GBP", "1.25")  # L3 now priced
    deliver(cur, 2, [
        line("L6", "-10.00", "USD", "-2.00", reverses="L1"),
        line("L7", "40.00", "EUR", "4.00", report_id="r2", case_ref="C2"),  # L2's content again
        line("L8", "1e30", "USD", "0", case_ref="C1"),
    ])
    cur.execute(
        "insert into raw.quarantine (source, file, file_sha256, line, reason, payload) values "
        "('settlement_reports', 'settlement_reports/f2.csv', 'f2', 5, 'gross_amount: \"x\" is not a number', "
        "'p1,r3,L99,C1,P1,a.com,x,USD,0,2026-01-20T10:00:00Z')"
    )


def _day3(cur):
    add_hold(cur, "P3")
    deliver(cur, 3, [
        line("L9", "15.00", case_ref="C3"),  # held
        line("L4", "25.00", case_ref="C9"),  # delivered again, same content
        line("L60", "-5.00", "USD", "0", reverses="L1"),  # a second reversal of L1
        line("L11", "12.00", case_ref="C2", domain="other-site.net"),
    ])


DAYS = (_day1, _day2, _day3)

SNAPSHOTS = {
    "transactions": """
        select t.partner, t.report_id, t.line_id, t.kind, r.partner || '/' || r.report_id || '/' || r.line_id,
            t.case_id, t.photographer_id, t.currency, t.gross_amount, t.partner_fee, t.photographer_amount,
            t.platform_amount, t.gross_usd, t.fee_usd, t.photographer_usd, t.platform_usd
        from settlement.transactions as t left join settlement.transactions as r on r.txn_id = t.reverses_txn_id
        order by 1, 2, 3""",
    "ledger": """
        select source, account, amount, currency, amount_usd from settlement.ledger order by 1, 2""",
    "credits": """
        select partner, report_id, line_id, photographer_id, case_id, amount, currency, amount_usd
        from settlement.credits order by 1, 2, 3""",
    "discrepancies": """
        select partner, report_id, line_id, kind, source_ref, is_blocking, detail, case_id, amount, currency,
            amount_usd
        from settlement.discrepancies order by 1, 2, 3, 4, 5""",
    "summaries": """
        select partner, report_id, lines, matched, credited, discrepant_lines, rejected_at_ingest,
            discrepancies_by_kind, totals_by_currency, reported_gross_usd, credited_usd
        from settlement.report_summaries order by 1, 2""",
}

LINE_MATCHES = """
    select partner, report_id, line_id, source_file_id, source_line, case_id, photographer_id, match_method,
        case_status, on_hold, target_report_id, target_line_id, deliveries, original_report_id,
        original_line_id, usd_per_unit, photographer_amount, gross_usd, kinds
    from settlement.line_matches order by 1, 2, 3"""


def _snapshot(cur) -> dict:
    out = {}
    for name, sql in SNAPSHOTS.items():
        cur.execute(sql)
        out[name] = cur.fetchall()
    return out


def test_incremental_runs_end_with_the_ledger_of_one_run_from_scratch(cur, db_url, scratch_db_url):
    scratch_url = scratch_db_url
    modes = []
    for day, load in enumerate(DAYS):
        load(cur)
        result = rec.reconcile(AS_OF + timedelta(days=day), url=db_url)
        modes.append(result["match_lines"]["mode"])
    assert modes == ["full", "incremental", "incremental"]
    incremental = _snapshot(cur)

    conn = db.connect(scratch_url)
    conn.autocommit = True
    with conn.cursor() as scratch:
        for load in DAYS:
            load(scratch)
        rec.reconcile(AS_OF + timedelta(days=2), url=scratch_url)
        from_scratch = _snapshot(scratch)
    conn.close()

    for name in SNAPSHOTS:
        assert incremental[name] == from_scratch[name], name
    # what the scenario is about actually happened
    credited = {row[2]: row[5] for row in incremental["credits"]}
    assert credited["L3"] == Decimal("15.00") and credited["L4"] == Decimal("12.50")
    assert credited["L6"] == Decimal("-4.00") and "L60" not in credited
    kinds = {(row[2], row[3]) for row in incremental["discrepancies"]}
    assert {("L7", "duplicate_line"), ("L8", "amount_exceeds_ceiling"), ("L9", "case_not_payable"),
            ("L60", "duplicate_reversal"), ("L99", "rejected_at_ingest"), ("L4", "duplicate_line"),
            ("L11", "case_domain_mismatch")} <= kinds


def test_incremental_state_equals_a_full_evaluation(cur, db_url):
    for day, load in enumerate(DAYS):
        load(cur)
        rec.reconcile(AS_OF + timedelta(days=day), url=db_url)
    cur.execute(LINE_MATCHES)
    incremental_lines = cur.fetchall()
    incremental = _snapshot(cur)
    result = rec.match_lines(AS_OF + timedelta(days=3), url=db_url, full=True)
    assert result["mode"] == "full"
    rec.summarise_reports(AS_OF + timedelta(days=3), url=db_url)
    cur.execute(LINE_MATCHES)
    assert cur.fetchall() == incremental_lines
    assert _snapshot(cur) == incremental


def test_a_rerun_evaluates_only_what_changed(cur, db_url):
    _day1(cur)
    first = rec.reconcile(AS_OF, url=db_url)
    assert first["match_lines"]["evaluated"] == 5
    again = rec.reconcile(AS_OF + timedelta(days=1), url=db_url)
    assert (again["match_lines"]["mode"], again["match_lines"]["evaluated"]) == ("incremental", 0)
    assert again["summarise_reports"] == {"reports": 0}
    # a case that starts to exist re-evaluates the line that cites it, and nothing else
    add_case(cur, "C9", "P9", "U9", "d.com")
    third = rec.reconcile(AS_OF + timedelta(days=2), url=db_url)
    assert third["match_lines"]["evaluated"] == 1
    assert third["post_ledger"]["settlements"] == 1
    cur.execute("select line_id from settlement.credits order by credit_id desc limit 1")
    assert cur.fetchone() == ("L4",)
    # a dismissed case holds back its lines not yet posted
    cur.execute("update infringement.cases set status = 'dismissed' where case_id = 'C1'")
    deliver(cur, 2, [line("L20", "10.00", case_ref="C1")])
    fourth = rec.reconcile(AS_OF + timedelta(days=3), url=db_url)
    assert fourth["post_ledger"]["settlements"] == 0
    cur.execute("select kind from settlement.discrepancies where line_id = 'L20'")
    assert cur.fetchall() == [("case_not_payable",)]


def test_an_absurd_amount_is_a_discrepancy_not_a_credit(cur, db_url, monkeypatch):
    add_case(cur, "C1", "P1", "U1", "a.com")
    deliver(cur, 1, [
        line("L1", "1e30", "USD", "0", case_ref="C1"),
        line("L2", "100.00", "USD", "1e30", case_ref="C1"),
        line("L3", "100.00", "USD", "10.00", case_ref="C1"),
    ])
    rec.reconcile(AS_OF, url=db_url)
    cur.execute("select line_id from settlement.credits")
    assert cur.fetchall() == [("L3",)]
    cur.execute("select line_id, kind, detail from settlement.discrepancies "
                "where kind = 'amount_exceeds_ceiling' order by 1")
    rows = cur.fetchall()
    assert [r[0] for r in rows] == ["L1", "L2"]
    assert "1000000 USD" in rows[0][2]
    # the ceiling is a setting: lowered, a modest line is held back too
    monkeypatch.setenv("LIGHTBOX_SETTLEMENT_MAX_USD", "50")
    deliver(cur, 2, [line("L4", "60.00", case_ref="C1")])
    rec.reconcile(AS_OF + timedelta(days=1), url=db_url)
    cur.execute("select kind from settlement.discrepancies where line_id = 'L4'")
    assert cur.fetchall() == [("amount_exceeds_ceiling",)]


def test_a_case_ref_of_another_sites_case_is_a_discrepancy_not_a_credit(cur, db_url):
    # another photographer's case, against another infringer
    add_case(cur, "C2", "P2", "U2", "their-infringer.com")
    add_case(cur, "C3", "P3", "U3", "shop.example.co.uk")
    deliver(cur, 1, [
        line("L1", "500.00", case_ref="C2", domain="my-infringer.com"),
        line("L2", "20.00", case_ref="C3", domain="WWW.Example.co.uk"),  # same site: fine
        line("L3", "20.00", case_ref="C3"),  # no domain given: the case_ref decides
    ])
    rec.reconcile(AS_OF, url=db_url)
    cur.execute("select line_id from settlement.credits order by 1")
    assert cur.fetchall() == [("L2",), ("L3",)]
    cur.execute("select line_id, kind, is_blocking from settlement.discrepancies")
    assert cur.fetchall() == [("L1", "case_domain_mismatch", True)]

"""Property tests over random sequences of report deliveries (duplicates, re-deliveries with
other values, reorderings, reversals, rejected rows) with reconciliations that crash between
steps: the ledger always balances, no line is credited twice, credits equal the share of the
net of the reconciled lines, and every line is credited or listed as a discrepancy."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lightbox import db
from lightbox.settlement import reconcile as rec
from lightbox.settlement.money import minor_units, split

from .conftest import add_case, add_hold, add_rate, deliver, line

SHARE = Decimal("0.50")
T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
CASES = [  # case_id, photo, owner, domain, status
    ("C1", "P1", "U1", "a.example.com", "open"),
    ("C2", "P2", "U2", "shop.example.co.uk", "sent_to_partner"),
    ("C3", "P3", "U3", "dismissed.example.net", "dismissed"),
    ("C4", "P4", "U4", "held.example.org", "open"),
]
CURRENCIES = ["USD", "EUR", "JPY", "KWD", "GBP"]  # GBP has no rate: missing_fx_rate


@st.composite
def line_specs(draw, n):
    specs = []
    for i in range(n):
        currency = draw(st.sampled_from(CURRENCIES))
        unit = Decimal(1).scaleb(-minor_units(currency))
        gross = draw(st.integers(min_value=-2, max_value=50_000)) * unit
        fee = draw(st.integers(min_value=0, max_value=60_000)) * unit
        fee = min(fee, gross) if draw(st.booleans()) else fee
        target = draw(st.sampled_from(CASES + [None]))
        how = draw(st.sampled_from(["case_ref", "photo_domain", "bad_ref"]))
        kwargs = {}
        if target and how == "case_ref":
            kwargs["case_ref"] = target[0]
        elif target and how == "photo_domain":
            kwargs["photo_id"], kwargs["domain"] = target[1], "www." + target[3].split(".", 1)[1]
        else:
            kwargs["case_ref"] = "NOPE"
        report = draw(st.sampled_from(["r1", "r2"]))
        specs.append(line(f"L{i}", str(gross), currency, str(fee), report_id=report, **kwargs))
    # reversals of earlier lines (full or partial, sometimes twice)
    for j in range(draw(st.integers(min_value=0, max_value=3))):
        original = draw(st.sampled_from(specs[:n]))
        gross = Decimal(original["gross_amount"])
        fee = Decimal(original["partner_fee"])
        if draw(st.booleans()):
            gross, fee = gross / 2, fee / 2
        places = minor_units(original["currency"])
        gross = gross.quantize(Decimal(1).scaleb(-places))
        fee = fee.quantize(Decimal(1).scaleb(-places))
        specs.append(line(f"V{j}", str(-gross), original["currency"], str(-fee),
                          report_id=original["report_id"], reverses=original["line_id"]))
    return specs


@st.composite
def scenarios(draw):
    specs = draw(line_specs(draw(st.integers(min_value=1, max_value=8))))
    deliveries = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        chosen = draw(st.lists(st.sampled_from(range(len(specs))), min_size=1, max_size=len(specs)))
        lines = []
        for k in chosen:  # order as drawn: reorderings and duplicates within a file
            spec = dict(specs[k])
            if draw(st.integers(min_value=0, max_value=9)) == 0:  # re-delivered with another amount
                spec["gross_amount"] = str(Decimal(spec["gross_amount"]) + 1)
            lines.append(spec)
        rejected = draw(st.integers(min_value=0, max_value=1))
        crash = draw(st.sampled_from(["none", "after_match", "after_post", "full", "full"]))
        deliveries.append((lines, rejected, crash))
    return deliveries


RESET = """
set session_replication_role = replica;
truncate raw.settlement_reports, raw.settlement_reports_history, raw.quarantine, raw.fx_rates,
    infringement.cases, exclusivity.violations, settlement.currencies, settlement.registrable_domains,
    settlement.rejected_lines, settlement.line_matches, settlement.transactions, settlement.ledger,
    settlement.credits, settlement.discrepancies, settlement.report_summaries restart identity;
set session_replication_role = origin;
"""


def _reset(cur):
    """Empty the tables between examples (a fresh database per example costs seconds). The
    insert-only triggers are bypassed for this one statement only: superuser test set-up."""
    cur.execute(RESET)


def _seed(cur):
    for case_id, photo_id, owner_id, domain, status in CASES:
        add_case(cur, case_id, photo_id, owner_id, domain, status=status)
    add_hold(cur, "P4")
    for currency, rate in (("EUR", "1.0837"), ("JPY", "0.006713"), ("KWD", "3.2551")):
        for day in range(19, 22):
            add_rate(cur, f"2026-01-{day}", currency, rate)


def _check_invariants(cur):
    # 1. every transaction balances per currency and in USD
    cur.execute(
        "select count(*) from (select txn_id, currency from settlement.ledger group by 1, 2 "
        "having sum(amount) <> 0 or sum(amount_usd) <> 0) as x"
    )
    assert cur.fetchone() == (0,)
    # 2. no line credited twice, one credit per transaction
    cur.execute(
        "select count(*), count(distinct (partner, report_id, line_id)), count(distinct txn_id), "
        "(select count(*) from settlement.transactions) from settlement.credits"
    )
    credits, keys, txns, transactions = cur.fetchone()
    assert credits == keys == txns == transactions
    # 3. credits = photographer share of the net of reconciled lines, to the cent
    cur.execute(
        "select t.currency, t.gross_amount, t.partner_fee, c.amount, t.photographer_amount, t.platform_amount "
        "from settlement.transactions as t join settlement.credits as c using (txn_id)"
    )
    totals: dict[str, list[Decimal]] = {}
    for currency, gross, fee, credited, photographer, platform in cur.fetchall():
        expected = split(gross, fee, SHARE, minor_units(currency))
        assert credited == photographer == expected.photographer
        assert platform == expected.platform
        totals.setdefault(currency, [Decimal(0), Decimal(0)])
        totals[currency][0] += credited
        totals[currency][1] += expected.photographer
    assert all(a == b for a, b in totals.values())
    # ... and the ledger's photographer accounts hold exactly the credits
    cur.execute(
        "select coalesce(sum(amount), 0) from settlement.ledger where account like 'photographer_payable:%'"
    )
    (payable,) = cur.fetchone()
    cur.execute("select coalesce(sum(amount), 0) from settlement.credits")
    assert -payable == cur.fetchone()[0]
    # 4. every line is credited or a discrepancy; every rejected row is listed
    cur.execute(
        """
        select count(*) from raw.settlement_reports as r
        where not exists (select 1 from settlement.credits as c
                          where (c.partner, c.report_id, c.line_id) = (r.partner, r.report_id, r.line_id))
          and not exists (select 1 from settlement.discrepancies as d
                          where (d.partner, d.report_id, d.line_id) = (r.partner, r.report_id, r.line_id)
                            and d.is_blocking)
        """
    )
    assert cur.fetchone() == (0,)
    cur.execute(
        "select count(*) from raw.quarantine as q where q.source = 'settlement_reports' and not exists "
        "(select 1 from settlement.discrepancies as d where d.source_ref = 'quarantine:' || q.quarantine_id)"
    )
    assert cur.fetchone() == (0,)
    # 5. nothing is paid that must not be: dismissed or held cases, bad amounts, early collections
    cur.execute(
        """
        select count(*) from settlement.transactions as t
        join infringement.cases as c using (case_id)
        join raw.settlement_reports as r using (partner, report_id, line_id)
        where t.kind = 'settlement' and (
            c.status in ('dismissed', 'paused')
            or exists (select 1 from exclusivity.holds as h where h.photo_id = c.photo_id)
            or t.gross_amount <= 0 or t.partner_fee < 0 or t.partner_fee > t.gross_amount
            or t.collected_at < c.opened_at or t.photographer_id is distinct from c.owner_id
            or (r.photo_id is not null and r.photo_id <> c.photo_id)
        )
        """
    )
    assert cur.fetchone() == (0,)
    # 6. reversals: each transaction reversed at most once, by the same photographer's line
    cur.execute(
        "select count(*) from settlement.transactions as v join settlement.transactions as o "
        "on o.txn_id = v.reverses_txn_id where v.photographer_id <> o.photographer_id "
        "or v.currency <> o.currency or -v.gross_amount > o.gross_amount or o.kind <> 'settlement'"
    )
    assert cur.fetchone() == (0,)


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(deliveries=scenarios())
def test_random_delivery_sequences_reconcile_exactly_once(db_url, tmp_path, deliveries):
    url = db_url
    landing = Path(tmp_path) / "no-landing"
    conn = db.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            _reset(cur)
            _seed(cur)
            as_of = T0
            for file_id, (lines, rejected, crash) in enumerate(deliveries, start=1):
                deliver(cur, file_id, lines, arrived_at=T0 - timedelta(days=30) + timedelta(minutes=file_id))
                for r in range(rejected):
                    cur.execute(
                        "insert into raw.quarantine (source, file, file_sha256, line, reason, payload) "
                        "values ('settlement_reports', %s, %s, %s, 'bad', %s)",
                        (f"settlement_reports/f{file_id}.csv", f"sha{file_id}", 100 + r, f"p1,r9,Q{file_id},,,,x,USD,0,"),
                    )
                as_of += timedelta(hours=1)
                if crash == "after_match":
                    rec.match_lines(as_of, share=SHARE, url=url, landing=landing)
                elif crash == "after_post":
                    rec.match_lines(as_of, share=SHARE, url=url, landing=landing)
                    rec.post_ledger(as_of, url=url)
                elif crash == "full":
                    rec.reconcile(as_of, share=SHARE, url=url, landing=landing)
                _check_invariants(cur) if crash == "full" else None
            rec.reconcile(as_of + timedelta(hours=1), share=SHARE, url=url, landing=landing)
            _check_invariants(cur)
            cur.execute("select count(*) from settlement.ledger")
            entries = cur.fetchone()
            again = rec.reconcile(as_of + timedelta(hours=2), share=SHARE, url=url, landing=landing)
            assert again["post_ledger"]["entries"] == 0 and again["credit_photographers"]["credits"] == 0
            cur.execute("select count(*) from settlement.ledger")
            assert cur.fetchone() == entries
    finally:
        conn.close()

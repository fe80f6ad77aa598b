"""Quality gates against the real database: each stage passes on clean data, and each
critical suite stops its gate (so the tasks and Asset events after it do not run)."""
from datetime import timedelta

import pytest
from quality_helpers import AS_OF, clean_raw, clean_settlement, insert, landing_file, plant_problems, results

from lightbox.quality.gates import QualityGateFailed, run_gate


def _failures(conn, suite):
    with conn.cursor() as cur:
        cur.execute(
            "select message, unexpected_sample::text from quality.expectation_results "
            "where suite = %s and not success order by position", (suite,))
        return cur.fetchall()


def test_raw_gate_passes_on_clean_data(conn, lightbox_home, capsys):
    clean_raw(conn)
    outcome = run_gate("raw", "run-clean", AS_OF)
    assert all(v["success"] for v in outcome.values()), results(conn)
    assert {r[1] for r in results(conn)} == set(outcome)
    assert all(r[3] and r[4] > 0 and r[5] == 0 for r in results(conn))
    assert "lightbox-summary: quality" in capsys.readouterr().out


def test_planted_problems_are_warnings_with_clear_messages(conn, lightbox_home, capsys):
    plant_problems(conn, clean_raw(conn))
    outcome = run_gate("raw", "run-planted", AS_OF)  # warnings: does not raise
    assert not outcome["raw_sales"]["success"]
    assert not outcome["raw_fx_rates"]["success"]
    assert not outcome["raw_photos"]["success"]
    assert outcome["raw_region_consents"]["success"]
    sales = " ".join(m + s for m, s in _failures(conn, "raw_sales"))
    assert "exported again" in sales and "repeats sale s00000" in sales
    assert "no EUR rate on 2026-09-13" in " ".join(s for _, s in _failures(conn, "raw_fx_rates"))
    photos = " ".join(m + s for m, s in _failures(conn, "raw_photos"))
    assert "ai-generated" in photos and "keywords" in photos
    out = capsys.readouterr().out
    assert "lightbox-summary: quality WARNING FAILED raw_fx_rates" in out
    assert outcome["raw_fx_rates"]["docs_uri"].endswith(".html")


def test_raw_gate_blocks_on_bad_consent_events(conn, lightbox_home):
    clean_raw(conn)
    insert(conn, "raw.region_consents", [{"event_id": "e9", "user_id": "u2", "region": "eu", "photo_id": None,
                                          "action": "grnat", "at": AS_OF}])
    with pytest.raises(QualityGateFailed, match="raw_region_consents"):
        run_gate("raw", "run-bad-consent", AS_OF)
    assert [r[3] for r in results(conn, "raw_region_consents")] == [False]


def test_ledger_gate_passes_when_balanced_and_credited(conn, lightbox_home):
    clean_settlement(conn)
    outcome = run_gate("ledger", "run-ledger", AS_OF)
    assert outcome["settlement_ledger"]["success"] and outcome["settlement_credits"]["success"]


def test_ledger_gate_blocks_an_unbalanced_transaction(conn, lightbox_home):
    txn = clean_settlement(conn)
    with conn.cursor() as cur:
        # The ledger's trigger rejects unbalanced statements; a restore or logical replication
        # (session_replication_role = replica) skips triggers, and that is how bad rows get in.
        cur.execute("set session_replication_role = replica")
        cur.execute(
            """insert into settlement.ledger (txn_id, account, amount, currency, amount_usd, posted_at, source)
               values (%s, 'platform_revenue', -5, 'USD', -5, now(), 'manual fix')""", (txn,))
        cur.execute("set session_replication_role = origin")
    with pytest.raises(QualityGateFailed, match="settlement_ledger"):
        run_gate("ledger", "run-unbalanced", AS_OF)
    messages = " ".join(s for _, s in _failures(conn, "settlement_ledger"))
    assert f"txn {txn} USD is unbalanced" in messages


def test_ledger_gate_blocks_a_credit_that_is_not_the_share(conn, lightbox_home):
    clean_settlement(conn)
    with conn.cursor() as cur:
        cur.execute(
            """insert into settlement.transactions (partner, report_id, line_id, kind, case_id, photographer_id, currency,
                   gross_amount, partner_fee, photographer_amount, platform_amount, usd_per_unit, fx_date,
                   gross_usd, fee_usd, photographer_usd, platform_usd, photographer_share, collected_at, posted_at)
               values ('pixsy', 'R1', 'L2', 'settlement', 'c1', 'u1', 'USD', 50, 10, 20, 20, 1, '2026-09-01',
                   50, 10, 20, 20, 0.50, now(), now()) returning txn_id""")
        txn = cur.fetchone()[0]
        cur.execute(
            """insert into settlement.ledger (txn_id, account, amount, currency, amount_usd, posted_at, source)
               values (%(t)s, 'partner_collections:pixsy', 50, 'USD', 50, now(), 's'), (%(t)s, 'partner_fees:pixsy', -10, 'USD', -10, now(), 's'),
                      (%(t)s, 'photographer_payable:u1', -20, 'USD', -20, now(), 's'), (%(t)s, 'platform_revenue', -20, 'USD', -20, now(), 's')""",
            {"t": txn})
        cur.execute(
            """insert into settlement.credits (photographer_id, case_id, amount, currency, amount_usd, credited_at, source,
                   partner, report_id, line_id, txn_id) values ('u1', 'c1', 25, 'USD', 25, now(), 's', 'pixsy', 'R1', 'L2', %s)""",
            (txn,))
    with pytest.raises(QualityGateFailed, match="settlement_credits"):
        run_gate("ledger", "run-credit", AS_OF)
    assert "the transaction's photographer share is 20" in " ".join(s for _, s in _failures(conn, "settlement_credits"))


def _region_store(region_code):
    from lightbox.config import settings
    from lightbox.replication.store import RegionStore

    return RegionStore(settings().region(region_code).uri)


def test_replication_gate_passes_when_every_object_is_consented(conn, lightbox_home):
    from lightbox.replication.store import object_key

    data = clean_raw(conn)
    photo = data["photos"][0]  # owner u1 granted eu
    _region_store("eu").put(object_key(photo["photo_id"], photo["sha256"], photo["image_path"]), b"jpeg")
    outcome = run_gate("replication", "run-repl", AS_OF)
    assert outcome["replication_consent"]["success"]
    assert not outcome["replication_inventory"]["success"]  # the object is not in the inventory: a warning


def test_replication_gate_blocks_an_object_without_consent(conn, lightbox_home):
    from lightbox.replication.store import object_key

    data = clean_raw(conn)
    photo = data["photos"][1]  # owner u2 never consented to any region
    _region_store("cn").put(object_key(photo["photo_id"], photo["sha256"], photo["image_path"]), b"jpeg")
    with pytest.raises(QualityGateFailed, match="replication_consent"):
        run_gate("replication", "run-leak", AS_OF)
    messages = " ".join(s for _, s in _failures(conn, "replication_consent"))
    assert f"cn: photo {photo['photo_id']} is in the region without consent (no_consent)" in messages


def test_scores_gate(conn, lightbox_home):
    clean_raw(conn)
    with conn.cursor() as cur:
        cur.execute("insert into licensing.model_versions (version, trained_at, is_champion, artifact_uri) "
                    "values ('v1', now(), true, 'file:///m')")
        for n in range(40):
            cur.execute("insert into licensing.scores (photo_id, model_version, p_suitable, p_sale, decision, scored_at) "
                        "values (%s, 'v1', %s, 0.2, 'under_review', now())", (f"p{n:04d}", (n % 10) / 10 + 0.05))
    outcome = run_gate("scores", "run-scores", AS_OF)
    assert outcome["licensing_scores"]["success"] and outcome["licensing_score_drift"]["success"]
    with conn.cursor() as cur:
        cur.execute("insert into licensing.scores (photo_id, model_version, p_suitable, p_sale, decision, scored_at) "
                    "values ('p0001', 'v0-unregistered', 0.5, 0.5, 'under_review', now())")
    with pytest.raises(QualityGateFailed, match="licensing_scores"):
        run_gate("scores", "run-scores-2", AS_OF)


def test_matches_gate_blocks_a_case_without_evidence(conn, lightbox_home):
    with conn.cursor() as cur:
        cur.execute("insert into infringement.cases (case_id, photo_id, infringer_domain, opened_at, evidence_uri) "
                    "values ('c1', 'p0001', 'thief.example', now(), 'file:///e1')")
        cur.execute("insert into infringement.matches (photo_id, page_url, image_url, distance, method, first_seen_at, "
                    "last_seen_at, evidence_uri, status, case_id) values ('p0001', 'http://t/a', 'http://t/a.jpg', 12, "
                    "'phash', now(), now(), 'file:///e1', 'case', 'c1')")
    assert all(v["success"] for v in run_gate("matches", "run-m1", AS_OF).values())
    with conn.cursor() as cur:
        cur.execute("insert into infringement.cases (case_id, photo_id, infringer_domain, opened_at) "
                    "values ('c2', 'p0002', 'thief.example', now())")
    with pytest.raises(QualityGateFailed, match="infringement_cases"):
        run_gate("matches", "run-m2", AS_OF)


def test_results_keep_history_and_a_rerun_replaces_its_own_row(conn, lightbox_home):
    clean_settlement(conn)
    run_gate("ledger", "run-a", AS_OF)
    run_gate("ledger", "run-b", AS_OF)
    run_gate("ledger", "run-b", AS_OF)  # a retried task
    rows = results(conn, "settlement_ledger")
    assert [r[0] for r in rows] == ["run-a", "run-b"]
    assert all(r[6] and r[6].startswith("file://") for r in rows)


def test_cli_run_results_and_docs(conn, lightbox_home, capsys):
    import argparse

    from lightbox.quality import commands

    parser = argparse.ArgumentParser()
    commands.register(parser.add_subparsers(dest="command"))
    clean_settlement(conn)
    args = parser.parse_args(["quality", "run", "--stage", "ledger", "--as-of", AS_OF.isoformat(), "--run-id", "cli-1"])
    assert args.func(args) == 0
    args = parser.parse_args(["quality", "results"])
    assert args.func(args) == 0
    args = parser.parse_args(["quality", "docs"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "settlement_ledger" in out and "cli-1" in out and "index.html" in out


def test_raw_sales_checks_the_increment_and_old_rule_breakers(conn, lightbox_home):
    """raw_sales loads the recent sales and, from the whole table, only the sales PostgreSQL
    finds breaking a rule: old problems still fail it, old clean sales stay out of the frame."""
    from lightbox.quality.suites import RECENT_DAYS, raw_sales

    data = clean_raw(conn)
    old = AS_OF - timedelta(days=400)
    assert old < AS_OF - timedelta(days=RECENT_DAYS)

    def sale(sale_id, photo_id, days, amount="9.99", currency="USD"):
        return {"sale_id": sale_id, "photo_id": photo_id, "sold_at": old - timedelta(days=days),
                "license_type": "standard", "amount": amount, "currency": currency}

    first = [sale("o-clean", "p0001", 0), sale("o-first", "p0002", 1, "7.50", "EUR"),
             sale("o-unknown", "p-gone", 2), sale("o-amount", "p0003", 3, "250000"), sale("o-jpy", "p0004", 4, "5", "JPY")]
    insert(conn, "raw.sales", first, landing_file(conn, "sales", "sales/sales_2025_a.csv", len(first)), arrived_at=old)
    again = [sale("o-repeat", "p0002", 1, "7.50", "EUR")]
    insert(conn, "raw.sales", again, landing_file(conn, "sales", "sales/sales_2025_b.csv", 1),
           arrived_at=old + timedelta(days=20))

    frame = set(raw_sales(conn, AS_OF).frame["sale_id"])
    assert "o-clean" not in frame
    assert {"o-first", "o-repeat", "o-unknown", "o-amount", "o-jpy"} <= frame
    assert {s["sale_id"] for s in data["sales"]} <= frame  # the recent sales: the increment

    outcome = run_gate("raw", "run-old-sales", AS_OF)
    assert not outcome["raw_sales"]["success"]
    failures = {m: s for m, s in _failures(conn, "raw_sales")}
    text = " ".join(m + s for m, s in failures.items())
    assert "sale o-repeat repeats sale o-first (same photo, sold_at, amount and currency; sales/sales_2025_b.csv)" in text
    assert "sale o-unknown is of unknown photo p-gone" in text
    assert "o-amount" in failures["Sale amounts are positive and below 100,000."]
    assert "o-jpy" in failures["Every sale's currency has fx rates (raw.fx_rates)."]
    assert "o-first" in failures["A sale is one event: the same photo sold at the same instant for the same amount "
                                 "twice means a sales file was exported again under new sale ids."]
    assert "o-clean" not in text


def _old_drift(conn, since, training):
    """licensing_score_drift as it was: every photo's latest score in pandas."""
    import pandas as pd

    from lightbox.quality.suites import PSI_MIN_ROWS, psi, psi_from_fractions, query

    scores = query(conn, """
        select distinct on (s.photo_id) s.photo_id, s.p_suitable::float8 as p_suitable, s.p_sale::float8 as p_sale,
            p.uploaded_at >= %(since)s as is_recent
        from licensing.scores as s join raw.photos as p on p.photo_id = s.photo_id
        order by s.photo_id, s.scored_at desc""", {"since": since})
    out = {}
    for column in ("p_suitable", "p_sale"):
        recent = scores.loc[scores["is_recent"].astype(bool), column]
        dist = training.get(column) or {}
        if dist.get("fractions") and len(recent) >= PSI_MIN_ROWS:
            bins = len(dist["fractions"])
            edges = [i / bins for i in range(bins + 1)]
            edges[-1] = 1.0 + 1e-9
            cur = pd.cut(pd.Series(recent, dtype="float64").clip(0, 1), edges, right=False)
            out[column] = psi_from_fractions(dist["fractions"], list(cur.value_counts(normalize=True, sort=False)))
        else:
            out[column] = psi(scores.loc[~scores["is_recent"].astype(bool), column], recent)
    return out, int(scores["is_recent"].astype(bool).sum())


def test_score_drift_bins_in_sql_like_pandas(conn, lightbox_home):
    """licensing_score_drift bins the scores in PostgreSQL: the same index as binning every
    score in pandas, on bin edges too, with and without a training distribution."""
    import json
    import random

    from lightbox.quality.suites import RECENT_DAYS, licensing_score_drift

    data = clean_raw(conn)
    rng = random.Random(5)
    photos = [{**data["photos"][0], "photo_id": f"pr{n:03d}", "uploaded_at": AS_OF - timedelta(days=n % 20)}
              for n in range(50)]
    insert(conn, "raw.photos", photos, landing_file(conn, "photos", "photos/recent.csv", len(photos)))
    edges = [0, 0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.9, 1]
    with conn.cursor() as cur:
        cur.execute("insert into licensing.model_versions (version, trained_at, is_champion, artifact_uri) "
                    "values ('v1', now(), true, 'file:///m')")
        for n, pid in enumerate([p["photo_id"] for p in data["photos"] + photos]):
            recent = pid.startswith("pr")
            for version, hours in (("v0", 48), ("v1", 1)):  # the later score counts
                p = rng.choice(edges) if n % 3 == 0 else rng.betavariate(5 if recent else 2, 2)
                cur.execute("insert into licensing.scores (photo_id, model_version, p_suitable, p_sale, decision, "
                            "scored_at) values (%s, %s, %s, %s, 'under_review', now() - %s * interval '1 hour')",
                            (pid, version, p, rng.choice(edges), hours))
    since = AS_OF - timedelta(days=RECENT_DAYS)
    for training in ({}, {"p_suitable": {"fractions": [0.1, 0.2, 0.3, 0.25, 0.15]}}):
        with conn.cursor() as cur:
            cur.execute("update licensing.model_versions set metrics = %s where version = 'v1'",
                        (json.dumps({"score_distribution": training}),))
        frame = licensing_score_drift(conn, AS_OF).frame.set_index("score")
        expected, recent_rows = _old_drift(conn, since, training)
        for column, value in expected.items():
            assert value is not None and frame.loc[column, "psi"] == pytest.approx(value, abs=1e-6), (training, column)
            assert frame.loc[column, "recent_rows"] == recent_rows == 65  # 50 new, 15 of clean_raw's


def test_scores_frame_is_the_increment_and_old_rule_breakers(conn, lightbox_home):
    from lightbox.quality.suites import licensing_scores

    clean_raw(conn)
    with conn.cursor() as cur:
        cur.execute("insert into licensing.model_versions (version, trained_at, is_champion, artifact_uri) "
                    "values ('v1', now(), true, 'file:///m')")
        for pid, version, scored in (("p0001", "v1", AS_OF - timedelta(days=1)), ("p0002", "v1", AS_OF - timedelta(days=400)),
                                     ("p0003", "v0-gone", AS_OF - timedelta(days=400))):
            cur.execute("insert into licensing.scores (photo_id, model_version, p_suitable, p_sale, decision, scored_at) "
                        "values (%s, %s, 0.5, 0.5, 'under_review', %s)", (pid, version, scored))
    assert set(licensing_scores(conn, AS_OF).frame["photo_id"]) == {"p0001", "p0003"}
    with pytest.raises(QualityGateFailed, match="licensing_scores"):
        run_gate("scores", "run-old-score", AS_OF)
    assert "score of p0003 by unregistered model v0-gone" in " ".join(s for _, s in _failures(conn, "licensing_scores"))

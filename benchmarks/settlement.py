"""Settlement reconciliation throughput: the set-based reconciliation (lightbox.settlement)
end to end on N synthetic report lines (default 1,000,000): the first run, a rerun with
nothing new, and a rerun after a delivery of 1,000 new lines (incremental: only the new
lines are evaluated); beside a per-line Python loop
baseline (one line at a time: look up the case, the rate, split in Decimal, post and credit in
its own transaction) on a 10,000-line sample, in the same run on the same server.

Prints one JSON object per figure. Usage:

    .venv/bin/python benchmarks/settlement.py [--lines 1000000] [--baseline-lines 10000] [--new-lines 1000]

Runs against LIGHTBOX_DATABASE_URL's server, or the embedded one of LIGHTBOX_HOME; it creates
and drops its own databases (settlement_bench_*).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lightbox import db, schema  # noqa: E402
from lightbox.domains import registrable_domain  # noqa: E402
from lightbox.settlement import reconcile  # noqa: E402
from lightbox.settlement.money import minor_units, split, to_usd  # noqa: E402
from tests.settlement import synthetic  # noqa: E402  (test data, shared with the concurrency test)

AS_OF = datetime(2026, 4, 1, tzinfo=timezone.utc)
SHARE = Decimal("0.50")


def emit(**figure) -> None:
    print(json.dumps(figure, default=str), flush=True)


def fresh_database(tag: str) -> tuple[str, str]:
    name = f"settlement_bench_{tag}_{uuid.uuid4().hex[:6]}"
    db.ensure_database(name)
    url = db._with_database(db.warehouse_url(), name)
    schema.apply_schema(url)
    return name, url


def drop_database(name: str) -> None:
    admin = db.connect(db._with_database(db.warehouse_url(), "postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
    admin.close()


def check(url: str) -> dict:
    with db.transaction(url) as conn, conn.cursor() as cur:
        cur.execute(
            """
            select
                (select count(*) from raw.settlement_reports),
                (select count(*) from settlement.credits),
                (select count(distinct (partner, report_id, line_id)) from settlement.discrepancies where is_blocking),
                (select count(*) from settlement.ledger),
                (select count(*) from (select txn_id, currency from settlement.ledger group by 1, 2
                                       having sum(amount) <> 0 or sum(amount_usd) <> 0) as x),
                (select count(*) from raw.settlement_reports as r
                 where not exists (select 1 from settlement.credits as c
                                   where (c.partner, c.report_id, c.line_id) = (r.partner, r.report_id, r.line_id))
                   and not exists (select 1 from settlement.discrepancies as d
                                   where (d.partner, d.report_id, d.line_id) = (r.partner, r.report_id, r.line_id)
                                     and d.is_blocking))
            """
        )
        lines, credits, discrepant, entries, unbalanced, unaccounted = cur.fetchone()
    return {
        "raw_lines": lines, "credits": credits, "discrepant_lines": discrepant, "ledger_entries": entries,
        "unbalanced_transactions": unbalanced, "lines_neither_credited_nor_listed": unaccounted,
    }


def _timed_run(url: str, as_of: datetime) -> tuple[float, dict, dict]:
    steps, results = {}, {}
    started = time.perf_counter()
    for step in ("match_lines", "post_ledger", "credit_photographers", "summarise_reports"):
        t = time.perf_counter()
        fn = getattr(reconcile, step)
        results[step] = fn(as_of, share=SHARE, url=url) if step == "match_lines" else fn(as_of, url=url)
        steps[step] = round(time.perf_counter() - t, 2)
    return time.perf_counter() - started, steps, results


def set_based(lines: int, new_lines: int) -> float:
    """The first run (every line evaluated: the baseline), a rerun with nothing new, and a
    rerun after a later delivery of ``new_lines`` lines."""
    name, url = fresh_database("sql")
    try:
        started = time.perf_counter()
        with db.transaction(url) as conn, conn.cursor() as cur:
            info = synthetic.generate(cur, lines)
        emit(figure="synthetic_data_written", lines=lines, seconds=round(time.perf_counter() - started, 2))
        seconds, steps, _ = _timed_run(url, AS_OF)
        result = check(url)
        emit(
            figure="settlement_reconcile_set_based", lines=lines, seconds=round(seconds, 2),
            lines_per_s=round(lines / seconds), steps_s=steps, **result,
            target="<= 300 s at 1,000,000 lines", meets_target=seconds <= 300 if lines >= 1_000_000 else None,
        )
        second, steps, again = _timed_run(url, AS_OF + timedelta(days=1))
        emit(
            figure="settlement_reconcile_noop_rerun", lines=lines, seconds=round(second, 2), steps_s=steps,
            lines_evaluated=again["match_lines"]["evaluated"],
            new_transactions=again["post_ledger"]["settlements"] + again["post_ledger"]["reversals"],
            new_credits=again["credit_photographers"]["credits"], ratio_vs_first_run=round(second / seconds, 4),
            target="<= 10 s at 1,000,000 lines", meets_target=second <= 10 if lines >= 1_000_000 else None,
        )
        with db.transaction(url) as conn, conn.cursor() as cur:
            synthetic.add_lines(cur, lines, new_lines, cases=info["cases"])
        third, steps, again = _timed_run(url, AS_OF + timedelta(days=2))
        result = check(url)
        emit(
            figure="settlement_reconcile_rerun_with_new_lines", lines=lines + new_lines, new_lines=new_lines,
            seconds=round(third, 2), steps_s=steps, lines_evaluated=again["match_lines"]["evaluated"],
            new_transactions=again["post_ledger"]["settlements"] + again["post_ledger"]["reversals"],
            new_credits=again["credit_photographers"]["credits"], ratio_vs_first_run=round(third / seconds, 4),
            **result,
            target="<= 15 s at 1,000,000 lines + 1,000 new", meets_target=third <= 15 if lines >= 1_000_000 else None,
        )
        return lines / seconds
    finally:
        drop_database(name)


def python_loop(lines: int) -> float:
    """The baseline a first version would write: for each line, query its case and rate,
    split it in Decimal and post it (transaction, four entries, credit) in its own database
    transaction. It checks fewer things than the set-based version (no duplicate, reversal
    or precision checks), so it flatters the loop."""
    name, url = fresh_database("loop")
    try:
        with db.transaction(url) as conn, conn.cursor() as cur:
            synthetic.generate(cur, lines)
        conn = db.connect(url)
        started = time.perf_counter()
        with conn.cursor() as cur:
            cur.execute(
                "select partner, report_id, line_id, case_ref, photo_id, infringer_domain, gross_amount, "
                "currency, partner_fee, collected_at from raw.settlement_reports order by partner, report_id, line_id"
            )
            rows = cur.fetchall()
        posted = discrepant = 0
        domains: dict[str, str] = {}
        for partner, report_id, line_id, case_ref, photo_id, domain, gross, currency, fee, collected_at in rows:
            with conn, conn.cursor() as cur:
                case = None
                if case_ref:
                    cur.execute(
                        "select case_id, photo_id, owner_id, status, opened_at from infringement.cases where case_id = %s",
                        (case_ref,),
                    )
                    case = cur.fetchone()
                if case is None and photo_id and domain:
                    wanted = domains.setdefault(domain, registrable_domain(domain))
                    cur.execute(
                        "select case_id, photo_id, owner_id, status, opened_at, infringer_domain "
                        "from infringement.cases where photo_id = %s order by opened_at, case_id",
                        (photo_id,),
                    )
                    for row in cur.fetchall():
                        if domains.setdefault(row[5], registrable_domain(row[5])) == wanted:
                            case = row[:5]
                            break
                places = minor_units(currency)
                cur.execute(
                    "select usd_per_unit from raw.fx_rates where currency = %s and rate_date = (%s at time zone 'UTC')::date",
                    (currency, collected_at),
                )
                rate = cur.fetchone()
                rate = Decimal(1) if currency == "USD" else (rate[0] if rate else None)
                cur.execute("select 1 from exclusivity.holds where photo_id = %s", (case[1] if case else None,))
                held = cur.fetchone() is not None
                if (
                    case is None or places is None or rate is None or held or case[3] in ("dismissed", "paused")
                    or gross <= 0 or fee < 0 or fee > gross or collected_at < case[4]
                ):
                    discrepant += 1
                    cur.execute(
                        "insert into settlement.discrepancies (partner, report_id, line_id, kind, detail, detected_at) "
                        "values (%s, %s, %s, 'loop', 'baseline', %s) on conflict do nothing",
                        (partner, report_id, line_id, AS_OF),
                    )
                    continue
                parts = split(gross, fee, SHARE, places)
                usd = to_usd(parts, rate)
                cur.execute(
                    "insert into settlement.transactions (partner, report_id, line_id, kind, case_id, photographer_id, "
                    "currency, gross_amount, partner_fee, photographer_amount, platform_amount, usd_per_unit, fx_date, "
                    "gross_usd, fee_usd, photographer_usd, platform_usd, photographer_share, collected_at, posted_at) "
                    "values (%s, %s, %s, 'settlement', %s, %s, %s, %s, %s, %s, %s, %s, (%s at time zone 'UTC')::date, "
                    "%s, %s, %s, %s, %s, %s, %s) on conflict do nothing returning txn_id",
                    (partner, report_id, line_id, case[0], case[2], currency, gross, fee, parts.photographer,
                     parts.platform, rate, collected_at, usd.gross, usd.partner_fee, usd.photographer, usd.platform,
                     SHARE, collected_at, AS_OF),
                )
                inserted = cur.fetchone()
                if inserted is None:
                    continue
                source = f"{partner}/{report_id}/{line_id}"
                cur.execute(
                    "insert into settlement.ledger (txn_id, account, amount, currency, amount_usd, posted_at, source) "
                    "values (%s, %s, %s, %s, %s, %s, %s), (%s, %s, %s, %s, %s, %s, %s), "
                    "(%s, %s, %s, %s, %s, %s, %s), (%s, %s, %s, %s, %s, %s, %s)",
                    (
                        inserted[0], f"partner_collections:{partner}", parts.gross, currency, usd.gross, AS_OF, source,
                        inserted[0], f"partner_fees:{partner}", -parts.partner_fee, currency, -usd.partner_fee, AS_OF, source,
                        inserted[0], f"photographer_payable:{case[2]}", -parts.photographer, currency, -usd.photographer, AS_OF, source,
                        inserted[0], "platform_revenue", -parts.platform, currency, -usd.platform, AS_OF, source,
                    ),
                )
                cur.execute(
                    "insert into settlement.credits (photographer_id, case_id, amount, currency, amount_usd, credited_at, "
                    "source, partner, report_id, line_id, txn_id) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                    "on conflict do nothing",
                    (case[2], case[0], parts.photographer, currency, usd.photographer, AS_OF, source, partner,
                     report_id, line_id, inserted[0]),
                )
                posted += 1
        seconds = time.perf_counter() - started
        conn.close()
        emit(
            figure="settlement_python_loop_baseline", lines=lines, seconds=round(seconds, 2),
            lines_per_s=round(lines / seconds), posted=posted, discrepant=discrepant,
        )
        return lines / seconds
    finally:
        drop_database(name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--baseline-lines", type=int, default=10_000)
    parser.add_argument("--new-lines", type=int, default=1_000)
    args = parser.parse_args()
    db.setup()
    loop_rate = python_loop(args.baseline_lines)
    sql_rate = set_based(args.lines, args.new_lines)
    emit(
        figure="settlement_speedup_vs_python_loop", set_based_lines_per_s=round(sql_rate),
        python_loop_lines_per_s=round(loop_rate), ratio=round(sql_rate / loop_rate, 1),
        python_loop_extrapolated_seconds_for_set_based_scale=round(args.lines / loop_rate),
        set_based_extrapolated_seconds_for_1m=round(1_000_000 / sql_rate),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

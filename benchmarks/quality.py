"""Benchmark of the quality report on a large warehouse: `quality_report` (every suite of
every stage, then Data Docs) as it is, against the same report with the previous raw_photos
and raw_sales suites (every photo, every sale loaded into a pandas frame, each sale's earlier
repeat looked up per sale: the baselines, defined here), in the same run on the same
database; and the raw_photos suite alone, both ways.

Today's raw_photos and raw_sales load only the recent rows (what their distribution checks
are about) and the rows PostgreSQL finds breaking a whole-table rule. The "before" report
runs with a statement timeout (--before-cap): the old raw_sales is quadratic in the sales.

    .venv/bin/python benchmarks/quality.py --url postgresql://…/bench_marts_large

Uses --url as it is (e.g. the database `benchmarks/marts.py --keep` leaves), or loads
--landing (a `lightbox seed --scale large` folder) into a fresh database.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, fresh_database  # noqa: E402


def whole_table_raw_photos(conn, as_of):
    """The baseline: raw_photos as it was, every photo in the frame."""
    from lightbox.quality import suites as s

    since = as_of - timedelta(days=s.RECENT_DAYS)
    df = s.query(conn, s.PHOTO_ROWS, {"since": since})
    today = s.raw_photos(conn, as_of)  # the same expectations
    return replace(today, frame=df)


# raw_sales as it was: every sale in the frame, each sale's earlier repeat found by a lateral
# lookup per sale (quadratic without an index on the sale's event columns).
WHOLE_TABLE_SALES = """
    select s.sale_id, s.photo_id, s.sold_at, s.amount::float8 as amount, s.currency,
        case when p.photo_id is null then 'sale ' || s.sale_id || ' is of unknown photo ' || s.photo_id end
            as unknown_photo,
        case when e.sale_id is not null then 'sale ' || s.sale_id || ' repeats sale ' || e.sale_id
            || ' (same photo, sold_at, amount and currency; ' || f.path || ')' end as repeated_sale
    from raw.sales as s
    left join raw.photos as p on p.photo_id = s.photo_id
    left join raw.landing_files as f on f.file_id = s._file_id
    left join lateral (
        select o.sale_id from raw.sales as o
        where o.photo_id = s.photo_id and o.sold_at = s.sold_at and o.amount = s.amount
            and o.currency = s.currency and (o._file_id, o._line, o.sale_id) < (s._file_id, s._line, s.sale_id)
        order by o._file_id, o._line limit 1
    ) as e on true
"""


def whole_table_raw_sales(conn, as_of):
    """The baseline: raw_sales as it was (the same expectations, over every sale)."""
    from lightbox.quality import suites as s

    today = s.raw_sales(conn, as_of)
    return replace(today, frame=s.query(conn, WHOLE_TABLE_SALES))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", help="a seed landing folder to load into a fresh database")
    parser.add_argument("--url", help="an already loaded warehouse database")
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "lightbox-bench-quality"))
    parser.add_argument("--before-cap", type=float, default=600,
                        help="seconds any one query of the 'before' report may take (statement_timeout)")
    args = parser.parse_args()
    os.environ.setdefault("LIGHTBOX_HOME", str(Path(args.work) / "home"))

    url = args.url
    if url is None:
        from lightbox.landing.ingest import ingest_folder

        url = fresh_database("bench_quality")
        loaded = ingest_folder(Path(args.landing), url=url).summary()
        emit(step="data", rows_loaded=loaded["rows_loaded"])
    os.environ["LIGHTBOX_DATABASE_URL"] = url
    from lightbox import db

    with db.transaction(url) as conn, conn.cursor() as cur:  # as_of: the day after the newest upload
        cur.execute("select date_trunc('day', max(uploaded_at)) + interval '1 day' from raw.photos")
        as_of = cur.fetchone()[0] or datetime.now(timezone.utc)
    emit(step="as_of", as_of=as_of.isoformat())

    from lightbox.quality.report import run_report
    from lightbox.quality.runner import run_suites
    from lightbox.quality.suites import SUITES

    today = SUITES["raw_photos"]
    baseline = replace(today, build=whole_table_raw_photos)
    for name, suite in (("before_whole_table", baseline), ("after_increment", today)):
        started = time.perf_counter()
        result = run_suites([suite], f"bench-{name}", as_of, build_docs="none")[0]
        emit(figure="raw_photos_suite", version=name, seconds=round(time.perf_counter() - started, 2),
             rows_in_frame=result.rows, success=result.success, failed_expectations=result.failed)
    # The whole report: every suite of every stage, then Data Docs. "before": raw_photos and
    # raw_sales as they were (whole tables in pandas); a query of it that runs past --before-cap
    # is cancelled, and the figure is then a lower bound.
    before = {"raw_photos": baseline, "raw_sales": replace(SUITES["raw_sales"], build=whole_table_raw_sales)}
    after = {name: SUITES[name] for name in before}
    report, lower_bound = {}, False
    for name, suites in (("after", after), ("before", before)):
        SUITES.update(suites)
        if name == "before":
            os.environ["PGOPTIONS"] = f"-c statement_timeout={int(args.before_cap * 1000)}"
        started = time.perf_counter()
        try:
            with contextlib.redirect_stdout(sys.stderr):  # its summary lines: stdout is JSON lines
                run_report(f"bench-report-{name}", as_of)
        except Exception as exc:  # noqa: BLE001 - a cancelled baseline query: a lower bound
            if "statement timeout" not in str(exc):
                raise
            lower_bound = True
        report[name] = time.perf_counter() - started
        os.environ.pop("PGOPTIONS", None)
    SUITES.update(after)
    emit(figure="quality_report", before_s=round(report["before"], 1), after_s=round(report["after"], 1),
         before_is_lower_bound=lower_bound, before_cap_s=args.before_cap,
         ratio_after_vs_before=round(report["after"] / report["before"], 3),
         note="before: raw_photos and raw_sales over whole tables in pandas, as before issue 21; "
              "a lower bound when a query of it ran past the cap and was cancelled")
    return 0


if __name__ == "__main__":
    sys.exit(main())

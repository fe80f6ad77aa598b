"""Benchmark of the quality report on a large warehouse: `quality_report` (every suite of
every stage, then Data Docs) as it is, against the same report with the previous raw_photos
suite (every photo loaded into a pandas frame: the baseline, defined here), in the same run
on the same database; and the raw_photos suite alone, both ways.

Today's raw_photos loads only the recent uploads (what its distribution checks are about)
and the photos PostgreSQL finds breaking a whole-table rule.

    .venv/bin/python benchmarks/quality.py --url postgresql://…/bench_marts_large

Uses --url as it is (e.g. the database `benchmarks/marts.py --keep` leaves), or loads
--landing (a `lightbox seed --scale large` folder) into a fresh database.
"""
from __future__ import annotations

import argparse
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", help="a seed landing folder to load into a fresh database")
    parser.add_argument("--url", help="an already loaded warehouse database")
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "lightbox-bench-quality"))
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
    report = {}
    for name, suite in (("before", baseline), ("after", today)):
        SUITES["raw_photos"] = suite
        started = time.perf_counter()
        run_report(f"bench-report-{name}", as_of)
        report[name] = time.perf_counter() - started
    SUITES["raw_photos"] = today
    emit(figure="quality_report", before_s=round(report["before"], 1), after_s=round(report["after"], 1),
         ratio_after_vs_before=round(report["after"] / report["before"], 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())

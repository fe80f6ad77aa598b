"""Benchmark of the quality report on a large warehouse: `quality_report` (every suite of
every stage, then Data Docs) with the suites over large tables validated in PostgreSQL (GX SQL
datasource: the default) against the same suites with their rows loaded into pandas frames
first (LIGHTBOX_QUALITY_ENGINE=pandas: how every suite ran before, the baseline), in the same
run on the same database; and the largest such suite (raw_photos) alone.

    .venv/bin/python benchmarks/quality.py --landing /tmp/lightbox-bench-marts/landing-large

Loads the landing folder (a `lightbox seed --scale large` folder, e.g. the one
benchmarks/marts.py generated) into a fresh database, or uses --url as it is.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, fresh_database  # noqa: E402

AS_OF = datetime(2026, 12, 1, tzinfo=timezone.utc)


def timed(engine: str, fn) -> float:
    os.environ["LIGHTBOX_QUALITY_ENGINE"] = engine
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


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

    from lightbox.quality.report import run_report
    from lightbox.quality.runner import run_suites
    from lightbox.quality.suites import SUITES

    rows = {}
    for engine in ("pandas", "sql"):
        seconds = timed(engine, lambda: rows.setdefault(engine, run_suites([SUITES["raw_photos"]], f"bench-{engine}",
                                                                          AS_OF, build_docs="none")[0].rows))
        emit(figure="raw_photos_suite", engine=engine, seconds=round(seconds, 2), rows_checked=rows[engine])
    report = {engine: timed(engine, lambda: run_report(f"bench-report-{engine}", AS_OF)) for engine in ("pandas", "sql")}
    emit(figure="quality_report", before_pandas_s=round(report["pandas"], 1), after_sql_s=round(report["sql"], 1),
         ratio_after_vs_before=round(report["sql"] / report["pandas"], 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())

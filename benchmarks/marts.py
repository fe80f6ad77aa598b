"""Benchmark of the dbt marts (issue: incremental everywhere).

For each seed scale: load the sample marketplace into a fresh warehouse database, time a
full `dbt build` (every model and every test: the baseline), then deliver a day of new data
(new photos and newer versions of old ones, sales, inspector decisions and a partner report:
``lightbox.marts.deliver_a_day``), ingest it, and time the second `dbt build` (again every
model and every test; the staging of photos, sales, inspections and settlement lines, the
licensing funnel and sales_facts are incremental and read only the day).

The seed's rows are stamped as having arrived a day earlier than they did, as they would
have on the day before: otherwise the incremental models' lookback (an hour: a load still in
flight during the last build) would read the seed again.

    .venv/bin/python benchmarks/marts.py [--scales medium,large]

Prints one JSON object per line. Per-model times come from dbt's run_results.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, fresh_database  # noqa: E402

TARGET = 0.25
DAY = {"sales": 2000, "photos": 5000, "inspections": 500, "partner_lines": 100}
SEED_TABLES = ("photos", "sales", "inspections", "settlement_reports", "users", "fx_rates", "region_consents")


def results() -> dict:
    from lightbox.marts import DBT_DIR

    run = json.loads((DBT_DIR / "target" / "run_results.json").read_text())
    models = {r["unique_id"].split(".")[-1]: round(r["execution_time"], 2)
              for r in run["results"] if r["unique_id"].startswith("model.")}
    tests = [r for r in run["results"] if r["unique_id"].startswith(("test.", "unit_test."))]
    return {"models": models, "tests_run": len(tests), "tests_passed": sum(r["status"] == "pass" for r in tests)}


def arrived_a_day_earlier(url: str) -> None:
    from lightbox import db

    with db.transaction(url) as conn, conn.cursor() as cur:
        for table in SEED_TABLES:
            cur.execute(f"update raw.{table} set _arrived_at = _arrived_at - interval '1 day'")
        for table in SEED_TABLES:
            cur.execute(f"analyze raw.{table}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="medium,large")
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "lightbox-bench-marts"))
    parser.add_argument("--keep", action="store_true", help="keep the last scale's database (its url is printed)")
    args = parser.parse_args()
    os.environ.setdefault("LIGHTBOX_HOME", str(Path(args.work) / "home"))

    from lightbox import marts
    from lightbox.landing.ingest import ingest_folder
    from lightbox.seed import generate

    marts.ensure_manifest()
    for scale in args.scales.split(","):
        landing = Path(args.work) / f"landing-{scale}"
        if not (landing / "_seed.json").exists():
            generate(str(landing), scale=scale, sites_dir=str(Path(args.work) / "sites"))
        for old_day in landing.glob("*/*_day_*.csv"):  # a previous run's day
            old_day.unlink()
        url = fresh_database(f"bench_marts_{scale}")
        loaded = ingest_folder(landing, url=url).summary()
        arrived_a_day_earlier(url)
        emit(scale=scale, step="data", rows_loaded=loaded["rows_loaded"])

        started = time.perf_counter()
        marts.dbt("build", url=url)
        first = time.perf_counter() - started
        one = results()
        emit(scale=scale, step="first_build", seconds=round(first, 1), models=len(one["models"]),
             tests_run=one["tests_run"], tests_passed=one["tests_passed"],
             slowest_models_s=dict(sorted(one["models"].items(), key=lambda kv: -kv[1])[:8]))

        day = marts.deliver_a_day(landing, url, tag="day", **DAY)
        started = time.perf_counter()
        ingest_folder(landing, url=url)
        ingest = time.perf_counter() - started
        started = time.perf_counter()
        marts.dbt("build", url=url)
        second = time.perf_counter() - started
        two = results()
        ratio = second / first
        emit(scale=scale, step="second_build_after_a_day", seconds=round(second, 1), day=day,
             ingest_seconds=round(ingest, 1), tests_run=two["tests_run"], tests_passed=two["tests_passed"],
             slowest_models_s=dict(sorted(two["models"].items(), key=lambda kv: -kv[1])[:8]),
             incremental_models_s={m: two["models"].get(m) for m in (
                 "stg_marketplace__photos", "stg_marketplace__sales", "stg_marketplace__inspections",
                 "stg_marketplace__settlement_reports", "int_photos_funnel_staged", "sales_facts")},
             whole_build_ratio_vs_first=round(ratio, 3),
             target=f"second build <= {TARGET}x the first (large seed), every test run",
             meets_target=(ratio <= TARGET and two["tests_run"] == one["tests_run"]) if scale == "large" else None)
        if args.keep and scale == args.scales.split(",")[-1]:
            emit(scale=scale, step="kept", url=url)
    return 0


if __name__ == "__main__":
    sys.exit(main())

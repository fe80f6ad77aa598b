"""Benchmark of the dbt marts (issue: reporting marts).

For each seed scale: load the sample marketplace into a fresh warehouse database, time a
full `dbt build` (every model and test), then deliver "a day of new data" (one more sales
file, as the marketplace would) and time the second `dbt build`. The large fact
`marts.sales_facts` is incremental: its second build reads only the new day. Per-model
times come from dbt's run_results.json.

    .venv/bin/python benchmarks/marts.py [--scales medium,large]

Prints one JSON object per line. The baseline of the incremental model is its own first
(full) build, measured in the same run.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, fresh_database  # noqa: E402




def model_times() -> dict[str, float]:
    from lightbox.marts import DBT_DIR

    results = json.loads((DBT_DIR / "target" / "run_results.json").read_text())
    return {r["unique_id"].split(".")[-1]: round(r["execution_time"], 2)
            for r in results["results"] if r["unique_id"].startswith("model.")}


def add_a_day_of_sales(landing: Path, url: str) -> int:
    """One more sales file: the next day's sales, new ids, of existing photos."""
    from lightbox import db

    conn = db.connect(url)
    with conn.cursor() as cur:
        cur.execute("select photo_id from raw.photos order by photo_id limit 2000")
        photos = [r[0] for r in cur.fetchall()]
        cur.execute("select max(sold_at) from raw.sales")
        last = cur.fetchone()[0]
    conn.close()
    day = (last.date().toordinal() + 1) if last else 739000
    from datetime import date

    when = date.fromordinal(day).isoformat()
    path = landing / "sales" / f"sales_9999_day_{when}.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["sale_id", "photo_id", "sold_at", "license_type", "amount", "currency"])
        for i, photo in enumerate(photos):
            writer.writerow([f"bench-{when}-{i}", photo, f"{when}T12:00:00+00:00", "standard", "19.00", "USD"])
    return len(photos)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="medium,large")
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "lightbox-bench-marts"))
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
        url = fresh_database(f"bench_marts_{scale}")
        loaded = ingest_folder(landing, url=url).summary()
        emit(scale=scale, step="data", rows_loaded=loaded["rows_loaded"])

        started = time.perf_counter()
        marts.dbt("build", url=url)
        first = time.perf_counter() - started
        first_models = model_times()
        emit(scale=scale, step="first_build", seconds=round(first, 1), models=len(first_models),
             sales_facts_s=first_models.get("sales_facts"))

        new_sales = add_a_day_of_sales(landing, url)
        ingest_folder(landing, url=url)
        started = time.perf_counter()
        marts.dbt("build", url=url)
        second = time.perf_counter() - started
        second_models = model_times()
        emit(scale=scale, step="second_build_after_a_day", seconds=round(second, 1), new_sales=new_sales,
             sales_facts_s=second_models.get("sales_facts"),
             sales_facts_ratio_vs_first=round(second_models["sales_facts"] / max(first_models["sales_facts"], 1e-9), 3),
             whole_build_ratio_vs_first=round(second / first, 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())

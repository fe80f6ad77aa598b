"""Benchmark of the landing loader (issue: platform foundation).

Loads the large sample marketplace (1,000,000 photo rows plus every other source) into a
fresh warehouse database with ``ingest_folder`` and prints rows/s; reruns it (nothing new
must load); and, in the same run, a baseline: a naive loader that inserts the same photo
rows one ``INSERT`` at a time (measured on a sample, since a million round trips take
minutes), so the ratio is read on the same machine at the same moment.

    .venv/bin/python benchmarks/ingest.py [--scale large] [--baseline-rows 50000]

Prints one JSON object per line.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, fresh_database  # noqa: E402


def naive_baseline(url: str, photos_csv: Path, limit: int) -> tuple[int, float]:
    """One INSERT per row (no validation at all: the baseline is only the write path)."""
    from lightbox import db
    from lightbox.landing.contract import SOURCES

    cols = list(SOURCES["photos"].column_names)
    sql = (
        f"insert into raw.photos_history ({', '.join(cols)}, _file_id, _line, _arrived_at) "
        f"values ({', '.join(['%s'] * len(cols))}, -1, %s, now())"
    )
    conn = db.connect(url)
    rows = 0
    started = time.perf_counter()
    with conn.cursor() as cur, photos_csv.open(newline="") as fh:
        reader = csv.DictReader(fh)
        for line, row in enumerate(reader, start=2):
            cur.execute(sql, [row.get(c) or None for c in cols] + [line])
            rows += 1
            if rows >= limit:
                break
    conn.commit()
    seconds = time.perf_counter() - started
    conn.close()
    return rows, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="large", choices=["small", "medium", "large"])
    parser.add_argument("--baseline-rows", type=int, default=50_000)
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "lightbox-bench-ingest"))
    args = parser.parse_args()

    os.environ.setdefault("LIGHTBOX_HOME", str(Path(args.work) / "home"))
    from lightbox.landing.ingest import ingest_folder
    from lightbox.seed import generate

    landing = Path(args.work) / f"landing-{args.scale}"
    if not (landing / "_seed.json").exists():
        started = time.perf_counter()
        generate(str(landing), scale=args.scale, sites_dir=str(Path(args.work) / "sites"))
        emit(step="seed", scale=args.scale, seconds=round(time.perf_counter() - started, 1))
    files = sorted(landing.rglob("*.csv"))
    emit(step="dataset", scale=args.scale, files=len(files), bytes=sum(f.stat().st_size for f in files), cpus=os.cpu_count())

    url = fresh_database("bench_ingest")
    started = time.perf_counter()
    first = ingest_folder(landing, url=url)
    seconds = time.perf_counter() - started
    summary = first.summary()
    rows = summary["rows_loaded"] + summary["rows_quarantined"]
    photo_rows = summary["by_source"].get("photos", {}).get("loaded", 0)
    emit(step="ingest", loader="lightbox (validate + COPY + one upsert per file)", rows=rows,
         photo_rows=photo_rows, quarantined=summary["rows_quarantined"], seconds=round(seconds, 2),
         rows_per_s=round(rows / seconds))

    started = time.perf_counter()
    second = ingest_folder(landing, url=url)
    emit(step="rerun", rows_loaded=second.rows_loaded, files_new=len(second.new_files),
         seconds=round(time.perf_counter() - started, 2))

    photos_csv = max((landing / "photos").glob("*.csv"), key=lambda p: p.stat().st_size)
    base_url = fresh_database("bench_ingest_naive")
    base_rows, base_seconds = naive_baseline(base_url, photos_csv, args.baseline_rows)
    emit(step="baseline", loader="naive row-by-row INSERT (no validation)", rows=base_rows,
         seconds=round(base_seconds, 2), rows_per_s=round(base_rows / base_seconds))
    emit(step="ratio", lightbox_over_naive=round((rows / seconds) / (base_rows / base_seconds), 1),
         target_rows_per_s=50_000, meets_target=rows / seconds >= 50_000)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""AI scan benchmark: training time, scoring throughput (decode + features + model + routing),
and how much each ingredient is worth in ROC-AUC of ``p_suitable``.

Figures, one JSON object per line:
- ``pixel_features``: photos/s on ONE core (OpenCV single-threaded) on the 16 sample photos
  (up to 2400 px), decode + every pixel feature; baseline ``full_decode``: the same features
  after a full-size decode (no libjpeg draft), measured in the same run. Target ≥ 50/s/core.
- ``train``: wall time of ``ml.train.train`` on the seeded marketplace (features of every
  labelled photo incl. pixel features on 2 threads, five models: LightGBM p_suitable, p_sale,
  LightGBM without pixels, metadata-only logistic regression, plus calibration and report).
- ``roc_auc``: p_suitable on the newest period (time split) for LightGBM with pixels, against
  the named baselines ``lightgbm_no_pixels`` and ``logistic_metadata`` (same photos, same run).
- ``score``: ``ml.score.score_submissions`` with a cold pixel cache on one worker thread:
  photos/s including image read + decode + features + model + routing + writes.

The marketplace is ``lightbox.seed.generate(scale, seed)``, ingested with
``lightbox.landing.ingest.ingest_folder`` into a database of its own (aiscan_bench_*,
dropped at the end). Usage:

    .venv/bin/python benchmarks/aiscan.py [--scale small|medium] [--seed 7] [--score-limit 3000]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def emit(**figure) -> None:
    print(json.dumps(figure, default=str), flush=True)


def bench_pixels(repeats: int = 5) -> None:
    import cv2

    from lightbox.config import REPO_ROOT
    from ml.pixels import pixel_features

    cv2.setNumThreads(1)
    photos = [p.read_bytes() for p in sorted((REPO_ROOT / "include" / "sample_photos").glob("*.jpg"))]
    pixel_features(photos[0])  # imports, first-call set-up

    def rate(draft: bool) -> tuple[list[float], list[float]]:
        wall, cpu = [], []
        for _ in range(repeats):
            started, started_cpu = time.perf_counter(), time.thread_time()
            for data in photos:
                pixel_features(data, draft=draft)
            wall.append(len(photos) / (time.perf_counter() - started))
            cpu.append(len(photos) / (time.thread_time() - started_cpu))
        return wall, cpu

    (fast, fast_cpu), (full, full_cpu) = rate(True), rate(False)
    # the machine is shared: wall-clock rates include waiting for a core; the CPU-time rate
    # (this thread's CPU seconds) is what one core does when it is ours
    emit(figure="pixel_features", unit="photos/s/core", photos=len(photos), repeats=repeats,
         median_cpu_time=round(statistics.median(fast_cpu), 1), median_wall=round(statistics.median(fast), 1),
         target=50, baseline="full_decode", baseline_median_cpu_time=round(statistics.median(full_cpu), 1),
         baseline_median_wall=round(statistics.median(full), 1),
         speedup=round(statistics.median(fast_cpu) / statistics.median(full_cpu), 2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--score-limit", type=int, default=1500, help="photos scored for the throughput figure")
    args = parser.parse_args()

    bench_pixels()

    work = Path(tempfile.mkdtemp(prefix="aiscan-bench-"))
    os.environ["LIGHTBOX_LANDING"] = str(work / "landing")
    os.environ["LIGHTBOX_OBJECT_STORE"] = f"file://{work / 'objects'}"
    from lightbox import db, schema

    name = f"aiscan_bench_{uuid.uuid4().hex[:8]}"
    db.ensure_database(name)
    url = db._with_database(db.warehouse_url(), name)
    schema.apply_schema(url)
    try:
        from lightbox.landing.ingest import ingest_folder
        from lightbox.seed import generate
        from ml import score, train

        started = time.perf_counter()
        generate(work / "landing", scale=args.scale, seed=args.seed, sites_dir=work / "sites")
        generated = time.perf_counter() - started
        started = time.perf_counter()
        ingest_folder(work / "landing", url=url)
        ingested = time.perf_counter() - started
        manifest = json.loads((work / "landing" / "_seed.json").read_text())
        as_of = manifest["as_of"]
        conn = db.connect(url)
        with conn.cursor() as cur:
            cur.execute("select (select count(*) from raw.photos), (select count(*) from raw.inspections), (select count(*) from raw.sales)")
            photos, inspections, sales = cur.fetchone()
        conn.commit()
        emit(figure="data", scale=args.scale, seed=args.seed, photos=photos, inspections=inspections, sales=sales,
             generate_s=round(generated, 1), ingest_s=round(ingested, 1), as_of=as_of)

        started, started_cpu = time.perf_counter(), time.process_time()
        result = train.train(conn, as_of, threads=2)
        train_s, train_cpu = time.perf_counter() - started, time.process_time() - started_cpu
        m = result.metrics
        emit(figure="train", scale=args.scale, seconds=round(train_s, 1), cpu_seconds=round(train_cpu, 1), rows=m["rows"],
             labelled_per_s=round(sum(m["rows"].values()) / train_s, 1), version=result.version,
             note="includes pixel features of every labelled photo (2 threads, cold cache)")
        auc = m["p_suitable"]["roc_auc"]
        for baseline in ("lightgbm_no_pixels", "logistic_metadata"):
            b = m["baselines"][baseline]["roc_auc"]
            emit(figure="roc_auc", scale=args.scale, model="lightgbm", roc_auc=round(auc, 4), baseline=baseline,
                 baseline_roc_auc=round(b, 4), lift=round(auc - b, 4), test_photos=m["rows"]["test"])
        emit(figure="p_suitable_metrics", scale=args.scale,
             **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in m["p_suitable"].items()})
        emit(figure="p_sale_metrics", scale=args.scale,
             **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in m["p_sale"].items()})
        train.promote_if_better(conn, result.version)

        with conn.cursor() as cur:
            cur.execute("truncate licensing.pixel_features")  # cold: every photo decoded again
        conn.commit()
        import cv2

        cv2.setNumThreads(1)
        started, started_cpu = time.perf_counter(), time.process_time()
        scan = score.score_submissions(conn, as_of, workers=1, limit=args.score_limit)
        score_s, score_cpu = time.perf_counter() - started, time.process_time() - started_cpu
        scored = sum(scan.decisions.values()) + scan.failures
        emit(figure="score", scale=args.scale, unit="photos/s (1 worker thread, cold pixel cache)",
             photos=scored, seconds=round(score_s, 1), photos_per_s=round(scored / score_s, 1),
             photos_per_cpu_s=round(scored / score_cpu, 1), target=50,
             eligible=scan.eligible, decisions=scan.decisions, failures=scan.failures, queued=scan.queued)
        if args.scale != "large":
            # large (1,000,000 photos) is not run here: linear in labelled photos (pixel
            # features dominate) and in photos to scan, from this run's CPU-time rates
            factor = 1_000_000 / photos
            labelled = sum(m["rows"].values())
            emit(figure="extrapolation_large", from_scale=args.scale, factor=round(factor, 1),
                 train_cpu_s=round(train_cpu * factor), train_labelled=round(labelled * factor),
                 score_cpu_s_per_1000_new_photos=round(1000 * score_cpu / scored, 1),
                 note="estimate, not measured; CPU seconds of the Lightbox process (database server excluded)")
        conn.close()
    finally:
        admin = db.connect(db._with_database(db.warehouse_url(), "postgres"))
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{name}" with (force)')
        admin.close()
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

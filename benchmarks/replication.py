"""Replication sync throughput: N photos (default 100,000) × 2 regions on file:// stores.

Figures, one JSON object per line:
- first_sync: every consented photo copied (read source, write, read back, SHA-256 verify,
  inventory + audit rows), per region and in total, with objects/s;
- steady_sync: a sync with nothing to do (target ≤ 30 s for both regions); baseline: just
  listing the stores (the floor of any sync that looks at what the stores really hold);
- revoke_sync: a sync after 1,000 photo-level revocations (removed in the same run);
- baseline raw_fs_copy: the same read/write/read-back/hash loop with no database, no audit,
  on a sample, to show what the bookkeeping costs.

Tiny image files (a ~300-byte JPEG with a unique trailer per photo) keep the disk small; raw
rows go in with COPY. Usage:

    .venv/bin/python benchmarks/replication.py [--photos 100000] [--revocations 1000]

Runs against LIGHTBOX_DATABASE_URL's server, or the embedded one of LIGHTBOX_HOME, in a
database of its own (replication_bench_*, dropped at the end); files go to a temp folder.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lightbox import db, schema  # noqa: E402
from lightbox.config import Region  # noqa: E402
from lightbox.replication.store import RegionStore  # noqa: E402
from lightbox.replication.sync import sync_region  # noqa: E402

T0 = datetime(2026, 4, 1, tzinfo=timezone.utc)
PHOTOS_PER_USER = 10


def emit(**figure) -> None:
    print(json.dumps(figure, default=str), flush=True)


def tiny_jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (120, 80, 40)).save(out, "JPEG", quality=50)
    return out.getvalue()


def copy_rows(cur, table: str, columns: list[str], rows) -> None:
    buf = io.StringIO()
    for row in rows:
        buf.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
    buf.seek(0)
    cur.copy_expert(f"copy {table} ({', '.join(columns)}) from stdin", buf)


def seed(url: str, landing: Path, n: int) -> None:
    base = tiny_jpeg()
    (landing / "images").mkdir(parents=True)
    photos = []
    for i in range(n):
        data = base + f"lightbox-bench-{i}".encode()  # bytes after EOI: still a valid JPEG, unique hash
        shard = f"images/{i % 1000:03d}"
        if i < 1000:
            (landing / shard).mkdir()
        path = f"{shard}/ph{i:07d}.jpg"
        (landing / path).write_bytes(data)
        photos.append((f"ph{i:07d}", f"us{i // PHOTOS_PER_USER:06d}", "false", path, hashlib.sha256(data).hexdigest()))
    users = sorted({p[1] for p in photos})
    meta = ["_file_id", "_line", "_arrived_at"]
    with db.transaction(url) as conn, conn.cursor() as cur:
        copy_rows(cur, "raw.users", ["user_id", "username", "joined_at", "auto_licensing", "default_exclusive", "updated_at", *meta],
                  ((u, u, T0, "false", "false", T0, 1, i, T0) for i, u in enumerate(users)))
        copy_rows(cur, "raw.photos", ["photo_id", "owner_id", "uploaded_at", "submitted_for_licensing",
                                      "removed_from_licensing", "exclusive", "image_path", "sha256", "updated_at", *meta],
                  ((p[0], p[1], T0, "false", "false", p[2], p[3], p[4], T0, 2, i, T0) for i, p in enumerate(photos)))
        copy_rows(cur, "raw.region_consents", ["event_id", "user_id", "region", "photo_id", "action", "at", *meta],
                  ((f"g-{region}-{u}", u, region, None, "grant", T0, 3, i, T0)
                   for region in ("eu", "cn") for i, u in enumerate(users)))


def revoke(url: str, n: int, count: int) -> None:
    step = max(1, n // count)
    with db.transaction(url) as conn, conn.cursor() as cur:
        copy_rows(cur, "raw.region_consents", ["event_id", "user_id", "region", "photo_id", "action", "at",
                                               "_file_id", "_line", "_arrived_at"],
                  ((f"r-{i}", f"us{i // PHOTOS_PER_USER:06d}", "eu" if k % 2 == 0 else "cn", f"ph{i:07d}", "revoke",
                    T0 + timedelta(days=1), 4, k, T0) for k, i in enumerate(range(0, step * count, step))))


def raw_fs_copy(landing: Path, target: Path, sample: int) -> float:
    """Read, write, read back, hash: the file work of a copy, without any bookkeeping."""
    started = time.perf_counter()
    for i in range(sample):
        data = (landing / f"images/{i % 1000:03d}/ph{i:07d}.jpg").read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        out = target / digest[:2] / f"ph{i:07d}.jpg"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        assert hashlib.sha256(out.read_bytes()).hexdigest() == digest
    return time.perf_counter() - started


def sync_all(regions, url: str, landing: Path, run_id: str, at: datetime) -> tuple[float, list]:
    conn = db.connect(url)
    results = []
    started = time.perf_counter()
    try:
        for region in regions:
            results.append(sync_region(region, run_id=run_id, at=at, conn=conn, landing=landing))
    finally:
        conn.close()
    return time.perf_counter() - started, results


def _filesystem(path: Path) -> str:
    best, fstype = "", "?"
    for line in Path("/proc/mounts").read_text().splitlines():
        parts = line.split()
        if len(parts) > 2 and str(path).startswith(parts[1]) and len(parts[1]) > len(best):
            best, fstype = parts[1], parts[2]
    return fstype


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--revocations", type=int, default=1000)
    parser.add_argument("--baseline-sample", type=int, default=10_000)
    parser.add_argument("--workdir", default=None,
                        help="parent folder of the landing folder and the region stores (default: the temp dir)")
    args = parser.parse_args()
    n = args.photos
    name = f"replication_bench_{uuid.uuid4().hex[:6]}"
    db.ensure_database(name)
    url = db._with_database(db.warehouse_url(), name)
    schema.apply_schema(url)
    work = Path(tempfile.mkdtemp(prefix="lbrepbench-", dir=args.workdir))
    emit(figure="environment", workdir=str(work), filesystem=_filesystem(work))
    try:
        landing = work / "landing"
        started = time.perf_counter()
        seed(url, landing, n)
        emit(figure="setup", photos=n, regions=2, users=n // PHOTOS_PER_USER, seconds=round(time.perf_counter() - started, 1))
        regions = [Region("eu", f"file://{work}/regions/eu", True), Region("cn", f"file://{work}/regions/cn", True)]

        sample = min(args.baseline_sample, n)
        seconds = raw_fs_copy(landing, work / "baseline", sample)
        baseline_rate = sample / seconds
        emit(figure="baseline", name="raw_fs_copy", objects=sample, seconds=round(seconds, 2),
             objects_per_s=round(baseline_rate))
        shutil.rmtree(work / "baseline")

        seconds, results = sync_all(regions, url, landing, "first", T0 + timedelta(hours=1))
        copied = sum(r.copied for r in results)
        assert copied == 2 * n and not any(r.errors for r in results), [r.summary() for r in results]
        emit(figure="first_sync", photos=n, regions=2, objects=copied, seconds=round(seconds, 1),
             objects_per_s=round(copied / seconds), per_region_s=[r.seconds for r in results],
             phases=[r.phases for r in results], vs_raw_fs_copy=round((copied / seconds) / baseline_rate, 2))

        started = time.perf_counter()
        listed = sum(len(RegionStore(r.uri).list()) for r in regions)
        listing_s = time.perf_counter() - started
        seconds, results = sync_all(regions, url, landing, "steady", T0 + timedelta(hours=2))
        changes = sum(r.copied + r.deleted + r.repaired for r in results)
        assert changes == 0, [r.summary() for r in results]
        emit(figure="steady_sync", photos=n, regions=2, objects_checked=listed, changes=changes,
             seconds=round(seconds, 1), target_s=30, per_region_s=[r.seconds for r in results],
             objects_per_s=round(listed / seconds), phases=[r.phases for r in results],
             baseline={"name": "store_listing_only", "seconds": round(listing_s, 1)},
             vs_listing=round(seconds / listing_s, 2))

        revoke(url, n, args.revocations)
        seconds, results = sync_all(regions, url, landing, "revoke", T0 + timedelta(days=1, hours=1))
        deleted = sum(r.deleted for r in results)
        assert deleted == args.revocations and sum(r.copied + r.repaired for r in results) == 0
        remaining = sum(len(RegionStore(r.uri).list()) for r in regions)
        assert remaining == 2 * n - args.revocations
        remove_s = sum(r.phases.get("remove", 0) for r in results)
        emit(figure="revoke_sync", photos=n, regions=2, revocations=args.revocations, removed=deleted,
             seconds=round(seconds, 1), objects_checked_per_s=round(2 * n / seconds),
             removal_phase_s=round(remove_s, 2), removals_per_s_in_phase=round(deleted / max(remove_s, 1e-6)),
             per_region_s=[r.seconds for r in results], phases=[r.phases for r in results])
    finally:
        shutil.rmtree(work, ignore_errors=True)
        admin = db.connect(db._with_database(db.warehouse_url(), "postgres"))
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{name}" with (force)')
        admin.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

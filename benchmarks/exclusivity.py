"""Exclusivity audit throughput: stock listings checked end to end against the exclusive
catalogue, with the listing images served locally over HTTP.

Figures, one JSON object per line:
- ``setup``: the catalogue (real hashed photos + synthetic entries), the listing images;
- ``baseline``: ``sequential_httpx``: the naive loop (one httpx GET, ``hash_image``,
  ``CatalogIndex.query`` per listing, no database, no evidence) on a sample, listings/s;
- ``audit``: ``fetch_listings`` + ``match_listings`` (the DAG's code: safe async fetcher,
  decode and hash in 2 worker processes, index queries in 2 threads of the parent,
  violations/cases/evidence and a ``listing_checks`` row per listing in PostgreSQL),
  listings/s, the time per phase and
  the share of each; decode vs hash split estimated from a decode-only pass over a sample;
- ``extrapolation``: when fewer listings than the issue's 100,000 were run, the time the
  full scale would take at the measured rate.

The catalogue: ``--real`` photos cut from half of include/sample_photos are really hashed
(``hash_image(catalog=True)``); the rest up to ``--catalog`` are synthetic entries (random
64/256-bit hashes, with the row layout and ORB features of a real catalogue photo that no
listing shows), added through ``CatalogIndex.add`` like real ones: hashing 100,000 photos
would take longer than the benchmark's budget. Listing images: ``--distinct`` different JPEGs (2 % copies of real catalogue
photos, flipped/resized/re-encoded; the rest cut from the other sample photos), listing i
showing image i mod distinct, served by a separate process.

    .venv/bin/python benchmarks/exclusivity.py [--listings 100000] [--catalog 100000]

Runs against LIGHTBOX_DATABASE_URL's server or the embedded one, in a database of its own
(dropped at the end).
"""
from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SAMPLES = Path(__file__).resolve().parent.parent / "include" / "sample_photos"
TEMPLATE = "Wood.jpg"  # ORB features and row layout of the synthetic catalogue entries
HOST = "img.stockbench.net"
SITE = "stockbench.net"
AS_OF = datetime(2026, 5, 1, tzinfo=timezone.utc)


def emit(**figure) -> None:
    print(json.dumps(figure, default=str), flush=True)


def _jpeg(im, quality=82) -> bytes:
    out = io.BytesIO()
    im.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def _sources():
    from PIL import Image

    names = sorted(p.name for p in SAMPLES.glob("*.jpg") if p.name != TEMPLATE)
    images = {}
    for name in names + [TEMPLATE]:
        with Image.open(SAMPLES / name) as im:
            im.draft("RGB", (1400, 1400))
            images[name] = im.convert("RGB")
            images[name].thumbnail((1400, 1400))
    catalog_sources = [images[n] for n in names[0::2]]
    distractor_sources = [images[n] for n in names[1::2]]
    return catalog_sources, distractor_sources, images[TEMPLATE]


def _cut(im, rng: random.Random, long_side: int, area=(0.25, 0.6)):
    w, h = im.size
    a = rng.uniform(*area)
    cw, ch = int(w * a ** 0.5 * rng.uniform(0.85, 1.15)), int(h * a ** 0.5 * rng.uniform(0.85, 1.15))
    cw, ch = min(cw, w), min(ch, h)
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    out = im.crop((x, y, x + cw, y + ch))
    out.thumbnail((long_side, long_side))
    return out


def make_images(n_real: int, n_distinct: int, seed: int = 11):
    """(catalogue photo JPEGs, listing JPEGs, which listing images copy which photo)."""
    from PIL import ImageEnhance, ImageOps

    rng = random.Random(seed)
    catalog_sources, distractor_sources, template = _sources()
    catalog = [_jpeg(_cut(rng.choice(catalog_sources), rng, 900), 90) for _ in range(n_real)]
    n_copies = max(1, n_distinct // 50)
    listing_images, copies = [], {}
    from PIL import Image

    for k in range(n_distinct):
        if k < n_copies:
            r = rng.randrange(n_real)
            im = Image.open(io.BytesIO(catalog[r])).convert("RGB")
            choice = k % 3
            if choice == 0:
                im = ImageOps.mirror(im)
            elif choice == 1:
                im = ImageEnhance.Color(im).enhance(1.3)
            im.thumbnail((rng.randint(450, 800),) * 2)
            listing_images.append(_jpeg(im, rng.randint(60, 90)))
            copies[k] = r
        else:
            im = _cut(rng.choice(distractor_sources), rng, rng.randint(450, 800), (0.15, 0.7))
            listing_images.append(_jpeg(im, rng.randint(65, 90)))
    return catalog, listing_images, copies, _jpeg(template, 90)


def build_index(catalog_jpegs: list[bytes], template_jpeg: bytes, total: int, seed: int = 5):
    """A CatalogIndex with the real photos added normally and synthetic photos added through
    the same ``CatalogIndex.add`` (random 64/256-bit hashes in the row layout of a real
    catalogue photo, sharing its ORB features)."""
    import dataclasses

    import numpy as np

    from lightbox.matching import CatalogIndex, hash_image

    index = CatalogIndex()
    started = time.perf_counter()
    for i, data in enumerate(catalog_jpegs):
        index.add(f"real-{i:05d}", hash_image(data, catalog=True))
    real_s = time.perf_counter() - started
    template = hash_image(template_jpeg, catalog=True)
    per = len(template.h64)
    n_syn = max(0, total - len(catalog_jpegs))
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    for i in range(n_syn):
        fake = dataclasses.replace(
            template, h64=rng.integers(0, 2**63, per, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, per, dtype=np.uint64),
            h256=rng.integers(0, 256, (per, 32), dtype=np.uint8))
        index.add(f"syn-{i:06d}", fake)
    index.prepare()  # build the search tables now
    return index, {"real_photos": len(catalog_jpegs), "real_hash_s": round(real_s, 1),
                   "synthetic_photos": n_syn, "hashes_per_photo": index.n_hashes // max(1, len(index)),
                   "index_hashes": index.n_hashes, "synthetic_build_s": round(time.perf_counter() - started, 1)}


def _serve(images_dir: str, port_queue) -> None:
    """The stock site's image host (a process of its own, like a real server)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    files = sorted(Path(images_dir).glob("*.jpg"))
    images = [f.read_bytes() for f in files]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in two writes: without TCP_NODELAY, Nagle and delayed ACKs
        # add ~40 ms to every keep-alive response
        disable_nagle_algorithm = True

        def do_GET(self):  # noqa: N802
            body, ctype = b"not found", "text/plain"
            status = 404
            if self.path.startswith("/img/") and self.path.endswith(".jpg"):
                try:
                    body, ctype, status = images[int(self.path[5:-4]) % len(images)], "image/jpeg", 200
                except ValueError:
                    pass
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    port_queue.put(server.server_address[1])
    server.serve_forever()


def _copy(cur, table: str, columns: tuple, buf: io.StringIO) -> None:
    buf.seek(0)
    cur.copy_expert(f"copy {table} ({', '.join(columns)}) from stdin", buf)


def seed_database(url: str, n_listings: int, n_real: int, copies: dict, n_distinct: int, port: int) -> None:
    """raw.users/photos for the real catalogue photos, raw.stock_listings for the listings:
    copies of even index listed by their owner (violations), the others by someone else
    (cases, unless the photo is already on hold)."""
    from lightbox import db

    conn = db.connect(url)
    with conn, conn.cursor() as cur:
        buf = io.StringIO()
        for i in range(n_real):
            buf.write(f"real-{i:05d}\tu{i % 50}\t2026-01-01T00:00:00Z\ttrue\timages/real-{i:05d}.jpg\tfalse\tfalse\t2026-01-01T00:00:00Z\t1\t{i + 1}\t2026-01-01T00:00:00Z\n")
        _copy(cur, "raw.photos", ("photo_id", "owner_id", "uploaded_at", "exclusive", "image_path",
                                                  "submitted_for_licensing", "removed_from_licensing", "updated_at",
                                                  "_file_id", "_line", "_arrived_at"), buf)
        buf = io.StringIO()
        for u in range(50):
            buf.write(f"u{u}\tphotographer{u}\t2025-01-01T00:00:00Z\tfalse\ttrue\t2025-01-01T00:00:00Z\t1\t{u + 1}\t2025-01-01T00:00:00Z\n")
        _copy(cur, "raw.users", ("user_id", "username", "joined_at", "auto_licensing", "default_exclusive",
                                                 "updated_at", "_file_id", "_line", "_arrived_at"), buf)
        buf = io.StringIO()
        for i in range(n_listings):
            k = i % n_distinct
            contributor = f"someone{i % 997}"
            if k in copies and k % 2 == 0:
                contributor = f"photographer{copies[k] % 50}"
            buf.write(f"{SITE}\t{i}\thttp://{HOST}:{port}/listing/{i}\thttp://{HOST}:{port}/img/{i}.jpg\t{contributor}\t2026-02-01T00:00:00Z\t1\t{i + 1}\t2026-03-01T00:00:00Z\n")
        _copy(cur, "raw.stock_listings", ("site", "listing_id", "listing_url", "image_url", "contributor",
                                                          "listed_at", "_file_id", "_line", "_arrived_at"), buf)
    conn.close()


def baseline(listing_urls: list[str], index) -> dict:
    """The naive loop: one GET at a time (httpx, keep-alive), hash, query."""
    import httpx

    from lightbox.matching import BadImage, hash_image

    started = time.perf_counter()
    matched = 0
    with httpx.Client(trust_env=False) as client:
        for url in listing_urls:
            body = client.get(url.replace(HOST, "127.0.0.1")).content
            try:
                matched += bool(index.query(hash_image(body)))
            except BadImage:
                pass
    seconds = time.perf_counter() - started
    return {"listings": len(listing_urls), "seconds": round(seconds, 2), "listings_per_s": round(len(listing_urls) / seconds, 1), "matched": matched}


def decode_share(images: list[bytes]) -> float:
    """Decode time as a share of hash_image time on the same images (one process)."""
    from lightbox.matching import hash_image
    from lightbox.matching.decode import decode
    from lightbox.matching.hashing import WORK_SIDE

    t0 = time.perf_counter()
    for data in images:
        decode(data, long_side=WORK_SIDE, mode="L")
    t_decode = time.perf_counter() - t0
    t0 = time.perf_counter()
    for data in images:
        hash_image(data)
    t_all = time.perf_counter() - t0
    return min(1.0, t_decode / t_all)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--catalog", type=int, default=100_000)
    parser.add_argument("--real", type=int, default=300, help="really hashed catalogue photos")
    parser.add_argument("--distinct", type=int, default=1000, help="distinct listing images")
    parser.add_argument("--baseline-sample", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lbexcbench-"))
    os.environ["LIGHTBOX_OBJECT_STORE"] = f"file://{work}/objects"
    os.environ["LIGHTBOX_CRAWL_ALLOW_NETWORKS"] = "127.0.0.0/8"
    os.environ["LIGHTBOX_CRAWL_RESOLVE"] = f"{HOST}=127.0.0.1"
    from lightbox import db, schema

    name = f"exclusivity_bench_{uuid.uuid4().hex[:6]}"
    db.ensure_database(name)
    url = db._with_database(db.warehouse_url(), name)
    schema.apply_schema(url)
    server = None
    try:
        started = time.perf_counter()
        catalog, listing_images, copies, template = make_images(args.real, args.distinct)
        images_dir = work / "images"
        images_dir.mkdir()
        for k, data in enumerate(listing_images):
            (images_dir / f"{k:06d}.jpg").write_bytes(data)
        images_s = time.perf_counter() - started
        index, index_info = build_index(catalog, template, args.catalog)
        queue = multiprocessing.get_context("spawn").Queue()
        server = multiprocessing.get_context("spawn").Process(target=_serve, args=(str(images_dir), queue), daemon=True)
        server.start()
        port = queue.get(timeout=60)
        seed_database(url, args.listings, args.real, copies, args.distinct, port)
        emit(figure="setup", catalog_photos=len(index), listings=args.listings, distinct_listing_images=args.distinct,
             planted_copies=len(copies), mean_image_kb=round(sum(map(len, listing_images)) / len(listing_images) / 1024, 1),
             images_s=round(images_s, 1), cpus=os.cpu_count(), **index_info)

        sample = [f"http://{HOST}:{port}/img/{i}.jpg" for i in range(args.baseline_sample)]
        base = baseline(sample, index)
        emit(figure="baseline", name="sequential_httpx", **base)

        from lightbox.exclusivity.audit import fetch_listings, match_listings
        from lightbox.exclusivity.connectors import LandingConnector

        os.environ["LIGHTBOX_DATABASE_URL"] = url
        conn = db.connect(url)
        t0 = time.perf_counter()
        fetched = fetch_listings(conn, AS_OF, [LandingConnector(conn)])
        fetch_listings_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = match_listings(conn, AS_OF, index=index, workers=args.workers, concurrency=args.concurrency,
                                per_host_concurrency=args.concurrency, fetch_pages=False)
        match_s = time.perf_counter() - t0
        total_s = fetch_listings_s + match_s
        with conn.cursor() as cur:
            cur.execute("select count(*) from exclusivity.violations")
            violations = cur.fetchone()[0]
            cur.execute("select count(*) from infringement.cases")
            cases = cur.fetchone()[0]
        conn.close()
        share_decode = decode_share(listing_images[: min(200, len(listing_images))])
        t = result["timings"]
        phases = {
            "fetch": t["fetch"],
            "decode": t["decode_hash"] * share_decode,
            "hash": t["decode_hash"] * (1 - share_decode),
            "match": t["match"],
            "record": t["record"],
        }
        busy = sum(phases.values())
        rate = fetched["listings"] / total_s
        emit(figure="audit", listings=fetched["listings"], catalog_photos=len(index), seconds=round(total_s, 1),
             listings_per_s=round(rate, 1), vs_sequential_httpx=round(rate / base["listings_per_s"], 2),
             read_listings_s=round(fetch_listings_s, 1), outcomes=result["outcomes"], violations=violations, cases=cases,
             phase_seconds={k: round(v, 1) for k, v in phases.items()},
             phase_share={k: round(v / busy, 3) for k, v in phases.items()},
             phase_ms_per_listing={k: round(1000 * v / fetched["listings"], 2) for k, v in phases.items()},
             note="phase seconds are summed over listings (fetches overlap; decode and hash run in "
                  f"{args.workers} spawned processes, index queries in 2 threads of the parent), shares are "
                  "of their sum; decode vs hash split from a "
                  f"decode-only pass (decode = {share_decode:.0%} of hash_image)")
        if args.listings < 100_000 or args.catalog < 100_000:
            emit(figure="extrapolation", scale_run={"listings": args.listings, "catalog": len(index)},
                 target={"listings": 100_000, "catalog": 100_000},
                 estimated_seconds_at_target=round(100_000 / rate, 0),
                 assumption="per-listing cost independent of listing count (no per-run state grows); "
                            "the catalogue size was run as given")
    finally:
        if server is not None:
            server.terminate()
            server.join(5)
        admin = db.connect(db._with_database(url, "postgres"))
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{name}" with (force)')
        admin.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

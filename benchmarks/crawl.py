"""Crawler throughput end to end: fetch (with politeness and robots.txt), discover, decode,
hash and match every image, frontier writes in PostgreSQL, against a local web of many hosts.

Prints JSON lines:

* ``crawl_end_to_end``: pages/s and images/s with politeness on, for 1 and 2 crawler
  processes (one shard each, as Celery workers would run them); CPU split into the crawler's
  (fetch, parse, frontier writes, per request) and the decode/hash/match processes' (per image);
  peak RSS of a crawler process;
* ``decode_hash_match_only``: CPU per image of ``hash_image`` + index query alone on the same
  images, and the share of the crawl's CPU it accounts for;
* ``baseline_sequential_requests``: ``scrapy bench``-style sequential fetching of the same
  URLs with one ``requests.Session`` (no politeness, no parsing, no hashing);
* ``politeness_bound``: the fastest any polite crawl of this web could go (hosts / delay).

The local web is an asyncio HTTP/1.1 server in its own process, virtual-hosting ``--hosts``
names (``hNNN-bench.test``, mapped to 127.0.0.1 through LIGHTBOX_CRAWL_RESOLVE). Each host has
an index page linking to its pages; each page shows its share of the images. A few images are
crops of catalogue photos (planted copies) so the match and evidence path runs too.

Usage: python benchmarks/crawl.py [--hosts 200 --pages 20000 --images 50000 --workers 1,2]
"""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing as mp
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SAMPLES = REPO / "include" / "sample_photos"


def emit(**figures) -> None:
    print(json.dumps(figures), flush=True)


# ---------------------------------------------------------------- the local web


def make_images(n_distinct: int, planted: int, seed: int = 1) -> tuple[list[bytes], list[bytes]]:
    """Distinct 640x480 JPEGs cut from the sample photos (unrelated to the catalogue crops)
    and a few planted copies (crops of catalogue photos)."""
    from PIL import Image, ImageOps

    rng = random.Random(seed)
    sources = []
    for path in sorted(SAMPLES.glob("*.jpg")):
        with Image.open(path) as im:
            im.draft("RGB", (1200, 1200))
            sources.append(ImageOps.exif_transpose(im).convert("RGB"))
    catalogue, others = sources[:8], sources[8:]
    distinct = []
    for i in range(n_distinct):
        im = others[i % len(others)]
        w, h = im.size
        cw, ch = int(w * rng.uniform(0.25, 0.5)), int(h * rng.uniform(0.25, 0.5))
        x, y = rng.randrange(0, w - cw), rng.randrange(0, h - ch)
        tile = im.crop((x, y, x + cw, y + ch)).resize((640, 480))
        if i % 2:
            tile = ImageOps.mirror(tile)
        out = io.BytesIO()
        tile.save(out, "JPEG", quality=rng.randint(70, 92))
        distinct.append(out.getvalue())
    plants = []
    for i in range(planted):
        im = catalogue[i % len(catalogue)]
        w, h = im.size
        c = 0.05
        copy = im.crop((int(w * c), int(h * c), int(w * (1 - c)), int(h * (1 - c))))
        copy.thumbnail((800, 800))
        out = io.BytesIO()
        copy.save(out, "JPEG", quality=80)
        plants.append(out.getvalue())
    return distinct, plants


def web_layout(hosts: int, pages: int, images: int):
    per_host_pages = max(1, pages // hosts)
    per_page_images = max(1, images // (per_host_pages * hosts))
    return per_host_pages, per_page_images


def serve(conn, hosts: int, pages: int, images: int, n_distinct: int, planted_every: int) -> None:
    """The local web (runs in a child process)."""
    distinct, plants = make_images(n_distinct, planted=8)
    per_host_pages, per_page_images = web_layout(hosts, pages, images)

    def page_body(host_no: int, page_no: int) -> bytes:
        imgs = "".join(
            f'<figure><img src="/i/{page_no}-{k}.jpg" alt="photo {k}"></figure>' for k in range(per_page_images)
        )
        nav = f'<a href="/p/{(page_no + 1) % per_host_pages}.html">next</a><a href="/index.html">home</a>'
        return (f"<!doctype html><html><head><title>h{host_no} page {page_no}</title></head><body>"
                f"<h1>Page {page_no}</h1><p>{'Lorem ipsum dolor sit amet. ' * 40}</p>{imgs}{nav}</body></html>").encode()

    def index_body(host_no: int) -> bytes:
        links = "".join(f'<li><a href="/p/{j}.html">page {j}</a></li>' for j in range(per_host_pages))
        return f"<!doctype html><html><body><ul>{links}</ul></body></html>".encode()

    def route(host: str, path: str) -> tuple[int, str, bytes]:
        try:
            host_no = int(host.split("-")[0][1:])
        except ValueError:
            return 404, "text/plain", b"no such host"
        if path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nDisallow: /private/\n"
        if path in ("/", "/index.html"):
            return 200, "text/html", index_body(host_no)
        if path.startswith("/p/") and path.endswith(".html"):
            return 200, "text/html", page_body(host_no, int(path[3:-5]))
        if path.startswith("/i/") and path.endswith(".jpg"):
            page_no, k = (int(x) for x in path[3:-4].split("-"))
            serial = (host_no * per_host_pages + page_no) * per_page_images + k
            if serial % planted_every == 0:
                return 200, "image/jpeg", plants[(serial // planted_every) % len(plants)]
            return 200, "image/jpeg", distinct[serial % len(distinct)]
        return 404, "text/plain", b"not found"

    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                host = ""
                for line in lines[1:]:
                    if line.lower().startswith("host:"):
                        host = line.split(":", 2)[1].strip().lower()
                status, ctype, body = route(host, path.split("?")[0])
                writer.write(
                    f"HTTP/1.1 {status} OK\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        conn.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# ---------------------------------------------------------------- the runs


def setup_database(catalogue_photos: int) -> None:
    from lightbox import db, schema

    schema.setup()
    landing = Path(os.environ["LIGHTBOX_LANDING"])
    (landing / "images").mkdir(parents=True, exist_ok=True)
    with db.transaction() as conn, conn.cursor() as cur:
        for path in sorted(SAMPLES.glob("*.jpg"))[:catalogue_photos]:
            (landing / "images" / path.name).write_bytes(path.read_bytes())
            cur.execute(
                """insert into raw.photos (photo_id, owner_id, exclusive, image_path, _file_id, _line, _arrived_at)
                   values (%s, 'U1', true, %s, 0, 1, now()) on conflict do nothing""",
                (path.stem, f"images/{path.name}"),
            )


def seed_hosts(port: int, hosts: int) -> None:
    from lightbox import db

    with db.transaction() as conn, conn.cursor() as cur:
        for i in range(hosts):
            cur.execute(
                """insert into raw.crawl_seeds (url, priority, max_depth, source, _file_id, _line, _arrived_at)
                   values (%s, 0, 1, 'seed', 0, %s, now()) on conflict do nothing""",
                (f"http://h{i:03d}-bench.test:{port}/index.html", i),
            )


def crawl_worker(as_of: str, shards: list[int], queue, config=None) -> None:
    """One crawler process: crawls its shards and reports wall, CPU and peak memory."""
    from lightbox.infringement import sweep

    started, cpu = time.perf_counter(), time.process_time()
    stats = [sweep.crawl(as_of, shard, config=config) for shard in shards]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    queue.put({
        "wall_s": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu,
        "hash_cpu_s": children.ru_utime + children.ru_stime,  # the decode/hash/match processes
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "stats": stats,
    })


def hash_only(urls: list[str], sample: int) -> dict:
    """CPU per image of decode + hash + index query alone, on images of the same web."""
    import requests

    from lightbox import db
    from lightbox.infringement.matcher import CatalogMatcher

    conn = db.connect()
    matcher = CatalogMatcher(conn)
    session = requests.Session()
    session.trust_env = False
    bodies = []
    for url in urls[:sample]:  # the names resolve only inside the crawler: ask 127.0.0.1 with a Host header
        host = url.split("/")[2].split(":")[0]
        bodies.append(session.get(url.replace(host, "127.0.0.1", 1), headers={"Host": host}, timeout=10).content)
    cpu = time.process_time()
    for body in bodies:
        try:
            matcher.match(body)
        except Exception:  # noqa: BLE001
            pass
    per_image = (time.process_time() - cpu) / len(bodies)
    conn.close()
    return {"images": len(bodies), "cpu_ms_per_image": round(per_image * 1000, 2)}


def baseline_requests(port: int, hosts: int, per_host_pages: int, per_page_images: int, n: int) -> dict:
    """scrapy-bench style: one requests.Session, one URL after another, same mix of pages and
    images as the crawl, no politeness, no parsing, no hashing."""
    import requests

    session = requests.Session()
    session.trust_env = False
    urls = []
    rng = random.Random(3)
    while len(urls) < n:
        h, p = rng.randrange(hosts), rng.randrange(per_host_pages)
        base = f"http://127.0.0.1:{port}"
        urls.append((base + f"/p/{p}.html", f"h{h:03d}-bench.test", True))
        for k in range(per_page_images):
            urls.append((base + f"/i/{p}-{k}.jpg", f"h{h:03d}-bench.test", False))
    urls = urls[:n]
    started = time.perf_counter()
    pages = 0
    for url, host, is_page in urls:
        session.get(url, headers={"Host": host}, timeout=10).content
        pages += is_page
    wall = time.perf_counter() - started
    return {"requests": len(urls), "pages": pages, "wall_s": round(wall, 2),
            "requests_per_s": round(len(urls) / wall, 1), "pages_per_s": round(pages / wall, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--pages", type=int, default=20_000, help="pages over all hosts (index pages not counted)")
    parser.add_argument("--images", type=int, default=50_000, help="image URLs over all pages")
    parser.add_argument("--distinct-images", type=int, default=400, help="distinct image bodies behind the URLs")
    parser.add_argument("--planted-every", type=int, default=500, help="one image URL in N is a planted copy")
    parser.add_argument("--workers", default="1,2", help="crawler processes (Celery workers) per run, e.g. 1,2: one crawl of the whole web per value")
    parser.add_argument("--baseline-requests", type=int, default=3000)
    parser.add_argument("--full-hosts", type=int, default=200)
    parser.add_argument("--full-pages", type=int, default=20_000)
    parser.add_argument("--full-images", type=int, default=50_000)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="lbbench-crawl-", dir="/tmp"))
    os.environ.setdefault("LIGHTBOX_HOME", str(home))
    os.environ["LIGHTBOX_LANDING"] = str(home / "landing")
    os.environ["LIGHTBOX_OBJECT_STORE"] = f"file://{home / 'objects'}"
    os.environ["LIGHTBOX_CRAWL_ALLOW_NETWORKS"] = "127.0.0.0/8"
    os.environ["LIGHTBOX_CRAWL_RESOLVE"] = ",".join(f"h{i:03d}-bench.test=127.0.0.1" for i in range(args.hosts))

    from lightbox.crawl.fetch import CrawlConfig

    per_host_pages, per_page_images = web_layout(args.hosts, args.pages, args.images)
    parent, child = mp.Pipe()
    server = mp.get_context("fork").Process(
        target=serve, args=(child, args.hosts, args.pages, args.images, args.distinct_images, args.planted_every), daemon=True)
    server.start()
    port = parent.recv()
    try:
        setup_database(catalogue_photos=8)
        from lightbox.infringement import sweep

        catalog = sweep.sync_catalog()
        seed_hosts(port, args.hosts)
        config = CrawlConfig()
        runs = []
        for run, n_workers in enumerate(int(w) for w in args.workers.split(",")):
            as_of = f"2026-06-0{run + 1}T00:00:00+00:00"  # a fresh sweep (frontier) per run
            sweep.seed(as_of)
            shards = sweep.plan(as_of, max_shards=max(1, n_workers))  # one shard per worker process
            queue = mp.get_context("fork").Queue()
            workers = [
                mp.get_context("fork").Process(target=crawl_worker, args=(as_of, shards[w::n_workers], queue, config))
                for w in range(n_workers)
            ]
            started = time.perf_counter()
            for w in workers:
                w.start()
            results = [queue.get() for _ in workers]
            for w in workers:
                w.join()
            deferred = sweep.pending(as_of)
            wall = time.perf_counter() - started
            pages = sum(s["pages_fetched"] for r in results for s in r["stats"])
            images = sum(s["images_fetched"] for r in results for s in r["stats"])
            matched = sum(s["images_matched"] for r in results for s in r["stats"])
            failures = {}
            for r in results:
                for st in r["stats"]:
                    for k, v in st["failures"].items():
                        failures[k] = failures.get(k, 0) + v
            crawler_cpu = sum(r["cpu_s"] for r in results)
            hash_cpu = sum(r["hash_cpu_s"] for r in results)
            cpu = crawler_cpu + hash_cpu
            t0 = time.perf_counter()
            matched_rows = sweep.match(as_of)
            cases = sweep.cases(as_of)
            post = time.perf_counter() - t0
            runs.append((pages, images, wall, cpu))
            emit(figure="crawl_end_to_end", hosts=args.hosts, pages_planned=per_host_pages * args.hosts + args.hosts,
                 images_planned=per_host_pages * args.hosts * per_page_images, workers=n_workers, shards=len(shards),
                 pages_fetched=pages, images_fetched=images, images_matched=matched, failures=failures,
                 deferred_shards_left=len(deferred), wall_s=round(wall, 2),
                 pages_per_s=round(pages / wall, 1), images_per_s=round(images / wall, 1),
                 requests_per_s=round((pages + images + args.hosts) / wall, 1),
                 cpu_s=round(cpu, 1), cpu_ms_per_image=round(cpu / max(1, images) * 1000, 2),
                 crawler_cpu_ms_per_request=round(crawler_cpu / max(1, pages + images + args.hosts) * 1000, 2),
                 decode_hash_match_cpu_ms_per_image=round(hash_cpu / max(1, images) * 1000, 2),
                 decode_hash_match_share_of_cpu=round(hash_cpu / max(1e-9, cpu), 3),
                 peak_rss_mb=round(max(r["peak_rss_mb"] for r in results), 1),
                 politeness={"per_host_delay_s": config.per_host_delay, "per_host_concurrency": config.per_host_concurrency,
                             "global_concurrency": config.global_concurrency, "robots_txt": True},
                 catalogue=catalog, post_crawl={"match_images": matched_rows, "open_cases": cases, "wall_s": round(post, 2)})
        pages, images, wall, cpu = runs[0]
        image_urls = [f"http://h{h:03d}-bench.test:{port}/i/{p}-{k}.jpg" for h in range(3) for p in range(per_host_pages)
                      for k in range(per_page_images)]
        only = hash_only(image_urls, sample=min(300, len(image_urls)))
        emit(figure="decode_hash_match_only", **only,
             note="hash_image + index query alone, in one process, on images of the same web")
        base = baseline_requests(port, args.hosts, per_host_pages, per_page_images, args.baseline_requests)
        emit(figure="baseline_sequential_requests", **base,
             crawl_pages_per_s_vs_baseline=round((pages / wall) / base["pages_per_s"], 2))
        bound = args.hosts / config.per_host_delay
        emit(figure="politeness_bound", max_requests_per_s=bound,
             note="hosts / per-host delay: no polite crawl of this web can beat it")
        if (args.hosts, args.pages, args.images) != (args.full_hosts, args.full_pages, args.full_images):
            # Extrapolation to the scale: requests per host grow with pages per host,
            # the politeness bound stays hosts/delay; CPU per image is measured above.
            full_requests = args.full_pages + args.full_images + args.full_hosts
            polite_s = full_requests / (args.full_hosts / config.per_host_delay)
            cpu_s = args.full_images * cpu / max(1, images) / (os.cpu_count() or 1)
            est = max(polite_s, cpu_s, full_requests / ((pages + images + args.hosts) / wall))
            emit(figure="extrapolated_full_scale", hosts=args.full_hosts, pages=args.full_pages, images=args.full_images,
                 assumption="max(politeness bound, measured CPU per image over all cores, measured request rate)",
                 est_wall_s=round(est, 1), est_pages_per_s=round(args.full_pages / est, 1),
                 est_images_per_s=round(args.full_images / est, 1))
    finally:
        server.terminate()
        from lightbox import db

        if not os.environ.get("LIGHTBOX_DATABASE_URL"):
            db.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Crawl one shard of a sweep: fetch its pending pages and images with the safe fetcher,
find images and links in pages, hash and match every image, and write what happened to the
frontier (status, attempts, last error, fetched-at, resolved IP).

One shard = a set of registrable domains (``frontier.shard_of``). Pages never leave their
seed's site, so they stay in their shard; an image on another domain (a CDN) is written to the
frontier for its own domain's shard and fetched in the next wave (``crawl_shard`` again, over
the shards still pending). Per-host politeness therefore holds across parallel shards.

Evidence bytes are stored when they may be needed: a page whose images matched (or were
deferred to another shard) keeps its HTML and headers; a matched image keeps its bytes, all
content-addressed under ``settings().evidence_uri``.

Database writes are buffered and flushed in batches (a link is written in the same
transaction as the page that found it, so a crash never loses a link of a fetched page).
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lightbox.crawl.discover import discover
from lightbox.crawl.fetch import CrawlConfig, FetchResult, SafeFetcher
from lightbox.crawl.frontier import host_of, n_shards, registrable_domain, shard_of, shard_rows

log = logging.getLogger(__name__)


class ImageRejected(Exception):
    """The matcher could not use an image (``reason``: bad_image, not_matchable…)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class CatalogMatcher:
    """The matching engine behind the crawler: ``match(bytes) -> [match dict]``."""

    def __init__(self, conn):
        from lightbox.matching.catalog import load_index

        self.index = load_index(conn)

    def match(self, data: bytes) -> list[dict]:
        from lightbox.matching import BadImage, hash_image

        try:
            hashed = hash_image(data)
        except BadImage as exc:
            raise ImageRejected(f"bad_image: {getattr(exc, 'reason', exc)}") from exc
        if not getattr(hashed, "matchable", True):
            return []
        return [
            {
                "photo_id": m.photo_id,
                "distance": float(m.distance),
                "method": m.method,
                "transform": None if m.transform is None else str(m.transform),
                "details": m.details if isinstance(m.details, dict) else {"details": str(m.details)},
            }
            for m in self.index.query(hashed)
        ]


_WORKER_MATCHER = None  # set before the hash processes fork; they inherit it


def _match_in_worker(data: bytes):
    try:
        return ("ok", _WORKER_MATCHER.match(data))
    except ImageRejected as exc:
        return ("rejected", exc.reason)
    except Exception as exc:  # noqa: BLE001 - a decoder crash is this image's failure
        return ("rejected", f"bad_image: {type(exc).__name__}: {exc}"[:500])


def start_hash_pool(matcher, workers: int):
    """A pool of forked processes that match with ``matcher``, started before any thread of
    the crawl exists (forking a threaded process is how locks get stuck)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _WORKER_MATCHER
    _WORKER_MATCHER = matcher
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    for future in [pool.submit(os.getpid) for _ in range(workers * 2)]:
        future.result()
    return pool


@dataclass
class ShardLimits:
    max_pages_per_site: int = 500
    max_query_variants_per_path: int = 10
    max_bodies_in_memory: int = 128
    # Page workers mostly wait for their host's politeness delay, not for the network; far
    # more of them than in-flight requests (the fetcher's global limit) keep every host busy.
    page_workers: int = 256
    hash_workers: int = max(1, os.cpu_count() or 1)
    # Decode and hash in forked processes: in threads they hold the GIL in turns with the
    # event loop, and every await then waits for a GIL switch (the crawl slows to a crawl).
    hash_in_processes: bool = True
    flush_seconds: float = 0.5


@dataclass
class ShardStats:
    pages_fetched: int = 0
    images_fetched: int = 0
    images_matched: int = 0
    links_added: int = 0
    deferred_images: int = 0
    failures: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {
            "pages_fetched": self.pages_fetched, "images_fetched": self.images_fetched,
            "images_matched": self.images_matched, "links_added": self.links_added,
            "deferred_images": self.deferred_images, "failures": dict(self.failures),
        }


class _Writer:
    """Buffered frontier writes, flushed in one transaction per batch."""

    def __init__(self, conn, sweep_id: str):
        self.conn = conn
        self.sweep_id = sweep_id
        self.inserts: list[tuple] = []
        self.updates: list[tuple] = []
        self.refs: list[tuple] = []
        self.matches: list[tuple] = []
        self.lock = asyncio.Lock()

    def insert(self, row: dict) -> None:
        self.inserts.append((
            self.sweep_id, row["url"], row["kind"], row["host"], row["site"], row["shard_key"], row["shard"],
            row["seed_url"], row["depth"], row["max_depth"], row["priority"], row["source"], row.get("reported_by"),
            row.get("discovered_from"),
        ))

    def done(self, url: str, result: FetchResult | None, status: str, error: str | None, body_uri=None, sha=None) -> None:
        headers = json.dumps(result.headers) if result is not None and result.headers else None
        self.updates.append((
            self.sweep_id, url, status, (error or "")[:1000] or None, result.attempts if result else 0,
            result.status if result else None, result.fetched_at if result else None,
            result.final_url if result else None, result.resolved_ip if result else None, sha, body_uri, headers,
        ))

    async def flush(self) -> None:
        async with self.lock:
            batch = (self.inserts, self.updates, self.refs, self.matches)
            if not any(batch):
                return
            self.inserts, self.updates, self.refs, self.matches = [], [], [], []
            await asyncio.to_thread(self._write, *batch)

    def _write(self, inserts, updates, refs, matches) -> None:
        from psycopg2.extras import execute_values

        with self.conn, self.conn.cursor() as cur:
            if inserts:
                execute_values(cur, """insert into infringement.crawl_frontier
                    (sweep_id, url, kind, host, site, shard_key, shard, seed_url, depth, max_depth, priority,
                     source, reported_by, discovered_from) values %s on conflict (sweep_id, url) do nothing""", inserts)
            if refs:
                execute_values(cur, """insert into infringement.crawl_image_refs (sweep_id, page_url, image_url, found_by)
                    values %s on conflict do nothing""", refs)
            if matches:
                execute_values(cur, """insert into infringement.image_matches
                    (sweep_id, image_url, photo_id, distance, method, transform, details) values %s
                    on conflict (sweep_id, image_url, photo_id) do update set distance = excluded.distance,
                    method = excluded.method, transform = excluded.transform, details = excluded.details""", matches)
            if updates:
                execute_values(cur, """update infringement.crawl_frontier f set status = v.status, last_error = v.last_error,
                    attempts = f.attempts + v.attempts, http_status = v.http_status, fetched_at = v.fetched_at,
                    final_url = v.final_url, resolved_ip = v.resolved_ip, content_sha256 = v.sha, body_uri = v.body_uri,
                    headers = v.headers::jsonb
                    from (values %s) as v (sweep_id, url, status, last_error, attempts, http_status, fetched_at,
                                           final_url, resolved_ip, sha, body_uri, headers)
                    where f.sweep_id = v.sweep_id and f.url = v.url""", updates,
                    template="(%s, %s, %s, %s, %s::int, %s::int, %s::timestamptz, %s, %s, %s, %s, %s)",
                    page_size=500)


class ShardCrawler:
    def __init__(self, conn, sweep_id: str, shard: int, matcher, fetcher: SafeFetcher, evidence_uri: str,
                 limits: ShardLimits | None = None, process_pool=None):
        self.conn = conn
        self.sweep_id = sweep_id
        self.shard = shard
        self.matcher = matcher
        self.fetcher = fetcher
        self.evidence_uri = evidence_uri
        self.limits = limits or ShardLimits()
        self.n_shards = n_shards(conn, sweep_id)
        self.writer = _Writer(conn, sweep_id)
        self.stats = ShardStats()
        self.queue: asyncio.PriorityQueue = asyncio.PriorityQueue()
        self.known: set[str] = set()
        self.images: dict[str, asyncio.Future] = {}
        self.pages_per_site: Counter = Counter()
        self.page_digests: dict[tuple[str, str], str] = {}
        self.query_variants: Counter = Counter()
        self.bodies = asyncio.Semaphore(self.limits.max_bodies_in_memory)
        self.process_pool = process_pool
        self.pool = None if process_pool else ThreadPoolExecutor(self.limits.hash_workers, thread_name_prefix="hash")
        self._seq = 0
        self._host_turns: Counter = Counter()
        self._stopping = asyncio.Event()

    # -- queue

    def _enqueue(self, row: dict) -> None:
        self._seq += 1
        # round-robin over hosts within a priority level: workers waiting on one host's
        # politeness delay must not leave every other host idle
        self._host_turns[row["host"]] += 1
        key = (row["source"] != "photographer_report", -int(row["priority"] or 0), self._host_turns[row["host"]],
               int(row["depth"]), self._seq)
        self.queue.put_nowait((key, row))

    async def run(self) -> ShardStats:
        rows = await asyncio.to_thread(shard_rows, self.conn, self.sweep_id, self.shard)
        done_images = []
        for row in rows:
            self.known.add(row["url"])
            if row["kind"] == "page":
                self.pages_per_site[row["site"]] += 1
            if row["status"] == "pending":
                self._enqueue(row)
            elif row["kind"] == "image":
                done_images.append(row["url"])
        if done_images:  # a resumed sweep: images fetched before keep their match results
            for url, matched in (await asyncio.to_thread(self._previous_matches, done_images)).items():
                future = asyncio.get_running_loop().create_future()
                future.set_result(matched)
                self.images[url] = future
        flusher = asyncio.create_task(self._flush_loop())
        workers = [asyncio.create_task(self._worker()) for _ in range(max(1, self.limits.page_workers))]
        try:
            await self.queue.join()
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            self._stopping.set()  # not cancel: a flush in its thread must finish before the last one
            await asyncio.gather(flusher, return_exceptions=True)
            await self.writer.flush()
            if self.pool is not None:
                self.pool.shutdown(wait=True)
        return self.stats

    def _previous_matches(self, urls: list[str]) -> dict[str, bool]:
        with self.conn.cursor() as cur:
            cur.execute(
                """select f.url, exists (select 1 from infringement.image_matches m
                                         where m.sweep_id = f.sweep_id and m.image_url = f.url)
                   from infringement.crawl_frontier f where f.sweep_id = %s and f.url = any(%s)""",
                (self.sweep_id, urls),
            )
            return dict(cur.fetchall())

    async def _flush_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), self.limits.flush_seconds)
            except TimeoutError:
                pass
            await self.writer.flush()

    async def _worker(self) -> None:
        while True:
            _key, row = await self.queue.get()
            try:
                if row["kind"] == "page":
                    await self._page(row)
                else:
                    await self._image(row["url"], row)
            except Exception as exc:  # noqa: BLE001 - one bad URL never stops the shard
                log.exception("crawl of %s failed", row["url"])
                self._fail(row["url"], None, f"crawler_error: {type(exc).__name__}: {exc}")
            finally:
                self.queue.task_done()

    def _fail(self, url: str, result: FetchResult | None, reason: str, status: str = "failed") -> None:
        self.stats.failures[reason.split(":", 1)[0]] += 1
        self.writer.done(url, result, status, reason)

    # -- pages

    async def _page(self, row: dict) -> None:
        result = await self.fetcher.fetch(row["url"], kind="page")
        if not result.ok:
            self._fail(row["url"], result, result.reason, "skipped" if result.error == "robots_disallowed" else "failed")
            return
        self.stats.pages_fetched += 1
        digest = hashlib.sha256(result.body).hexdigest()
        # the same page under another URL of the same host (/ and /index.html) is one sighting;
        # the same page on another host is another sighting (another infringer)
        first = self.page_digests.setdefault((row["host"], digest), row["url"])
        if first != row["url"]:
            self.writer.done(row["url"], result, "fetched", f"duplicate_content: same as {first}", None, digest)
            return
        base = result.final_url or row["url"]
        found = await asyncio.to_thread(discover, result.body, base)
        if row["depth"] < row["max_depth"]:
            for link in found.links:
                self._add_link(link, row)
        waits = []
        deferred = False
        for image_url, how in found.images.items():
            self.writer.refs.append((self.sweep_id, row["url"], image_url, how))
            key = registrable_domain(host_of(image_url))
            if shard_of(key, self.n_shards) == self.shard:
                waits.append(self._image(image_url, row))
            else:
                deferred = True
                self._defer_image(image_url, key, row)
        matched = any(await asyncio.gather(*waits)) if waits else False
        body_uri = None
        if matched or deferred:
            body_uri, _ = await self._store(result.body, ".html")
        self.writer.done(row["url"], result, "fetched", None, body_uri, digest)

    def _add_link(self, link: str, parent: dict) -> None:
        if link in self.known:
            return
        host = host_of(link)
        key = registrable_domain(host)
        if key != parent["site"]:
            return  # other sites are not this seed's to crawl
        parts = urlsplit(link)
        if parts.query:
            path_key = (host, parts.path)
            if self.query_variants[path_key] >= self.limits.max_query_variants_per_path:
                return  # one page linked a million ways stays a handful of fetches
            self.query_variants[path_key] += 1
        if self.pages_per_site[key] >= self.limits.max_pages_per_site:
            return
        self.pages_per_site[key] += 1
        self.known.add(link)
        row = {
            "url": link, "kind": "page", "host": host, "site": parent["site"], "shard_key": key,
            "shard": self.shard, "seed_url": parent["seed_url"], "depth": parent["depth"] + 1,
            "max_depth": parent["max_depth"], "priority": parent["priority"], "source": "link",
            "reported_by": parent.get("reported_by"), "discovered_from": parent["url"], "status": "pending",
        }
        self.writer.insert(row)
        self.stats.links_added += 1
        self._enqueue(row)

    def _defer_image(self, image_url: str, key: str, page: dict) -> None:
        if image_url in self.known:
            return
        self.known.add(image_url)
        self.stats.deferred_images += 1
        self.writer.insert({
            "url": image_url, "kind": "image", "host": host_of(image_url), "site": page["site"], "shard_key": key,
            "shard": shard_of(key, self.n_shards), "seed_url": page["seed_url"], "depth": page["depth"],
            "max_depth": page["max_depth"], "priority": page["priority"], "source": "image",
            "reported_by": page.get("reported_by"), "discovered_from": page["url"],
        })

    # -- images

    def _image(self, image_url: str, page: dict):
        """An awaitable of "did this image match?"; each image is fetched once per sweep."""
        future = self.images.get(image_url)
        if future is None:
            if image_url not in self.known:
                self.known.add(image_url)
                key = registrable_domain(host_of(image_url))
                self.writer.insert({
                    "url": image_url, "kind": "image", "host": host_of(image_url), "site": page["site"],
                    "shard_key": key, "shard": self.shard, "seed_url": page["seed_url"], "depth": page["depth"],
                    "max_depth": page["max_depth"], "priority": page["priority"], "source": "image",
                    "reported_by": page.get("reported_by"), "discovered_from": page["url"],
                })
            future = self.images[image_url] = asyncio.ensure_future(self._fetch_image(image_url))
        return asyncio.shield(future)

    async def _fetch_image(self, url: str) -> bool:
        async with self.bodies:
            result = await self.fetcher.fetch(url, kind="image")
            if not result.ok:
                self._fail(url, result, result.reason, "skipped" if result.error == "robots_disallowed" else "failed")
                return False
            self.stats.images_fetched += 1
            loop = asyncio.get_running_loop()
            if self.process_pool is not None:
                outcome, value = await loop.run_in_executor(self.process_pool, _match_in_worker, result.body)
            else:
                global _WORKER_MATCHER
                _WORKER_MATCHER = self.matcher
                outcome, value = await loop.run_in_executor(self.pool, _match_in_worker, result.body)
            if outcome != "ok":
                self._fail(url, result, value)
                return False
            matches = value
            body_uri = sha = None
            if matches:
                self.stats.images_matched += 1
                suffix = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}.get(
                    result.content_type or "", ".bin")
                body_uri, sha = await self._store(result.body, suffix)
                for m in matches:
                    self.writer.matches.append((
                        self.sweep_id, url, m["photo_id"], m["distance"], m["method"], m.get("transform"),
                        json.dumps(m.get("details") or {}, default=str),
                    ))
            self.writer.done(url, result, "fetched", None, body_uri, sha)
            return bool(matches)

    async def _store(self, data: bytes, suffix: str) -> tuple[str, str]:
        from lightbox.objects import put_content_addressed

        return await asyncio.to_thread(put_content_addressed, self.evidence_uri, data, suffix)


async def crawl_shard_async(conn, sweep_id: str, shard: int, matcher, settings=None,
                            config: CrawlConfig | None = None, limits: ShardLimits | None = None,
                            process_pool=None) -> dict:
    if settings is None:
        from lightbox.config import settings as current

        settings = current()
    started = time.monotonic()
    async with SafeFetcher(settings, config) as fetcher:
        crawler = ShardCrawler(conn, sweep_id, shard, matcher, fetcher, settings.evidence_uri, limits, process_pool)
        stats = await crawler.run()
    summary = stats.as_dict() | {"shard": shard, "seconds": round(time.monotonic() - started, 2)}
    log.info("shard %s of sweep %s: %s", shard, sweep_id, summary)
    return summary


def crawl_shard(conn, sweep_id: str, shard: int, matcher=None, settings=None,
                config: CrawlConfig | None = None, limits: ShardLimits | None = None) -> dict:
    """Crawl the pending rows of one shard to the end (synchronous entry point for tasks)."""
    if matcher is None:
        matcher = CatalogMatcher(conn)
    limits = limits or ShardLimits()
    pool = None
    if limits.hash_in_processes:
        try:
            pool = start_hash_pool(matcher, limits.hash_workers)
        except (AssertionError, OSError, ValueError) as exc:  # e.g. inside a daemonic process
            log.warning("hashing in threads, not processes: %s", exc)
    try:
        return asyncio.run(crawl_shard_async(conn, sweep_id, shard, matcher, settings, config, limits, pool))
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

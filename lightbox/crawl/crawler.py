"""Crawl one shard of a sweep: fetch its pending pages and images with the safe fetcher,
find images and links in pages, hash and match every image, and write what happened to the
frontier (status, attempts, not-before, last error, fetched-at, resolved IP).

One shard = a set of registrable domains (``frontier.shard_of``). Pages never leave their
seed's site, so they stay in their shard; an image on another domain (a CDN) is written to the
frontier for its own domain's shard and fetched in the next wave (``crawl_shard`` again, over
the shards still pending). Per-host politeness therefore holds across parallel shards.

Scheduling (see docs/crawl.md): every host has its own queue, and one dispatcher starts a
request only when the host's politeness turn has come (per-host concurrency and delay) and a
global slot is free. Work waiting for a host is a queue entry, not a task holding a timer, so
a host with thousands of images never times out its own queue, and idle hosts are never
starved by a busy one. Images come before pages within a host (a page's body waits in memory
until its images are matched), and image fetches pause while the hash processes are behind.

A transient failure (timeout, reset, 429/503 with or without Retry-After) goes back to its
host's queue with ``attempts`` and a ``not_before`` time (exponential back-off, at least the
server's Retry-After), written to the frontier too, and is tried again in the same crawl;
after ``CrawlConfig.retries`` retries it is ``failed`` with the reason of its last attempt.

Evidence bytes are stored when they may be needed: a page whose images matched (or were
deferred to another shard) keeps its HTML and headers; a matched image keeps its bytes, all
content-addressed under ``settings().evidence_uri``.

Database writes are buffered and flushed in batches (a link is written in the same
transaction as the page that found it, so a crash never loses a link of a fetched page).
While a shard runs it logs a ``lightbox-progress:`` line every few seconds.
"""
from __future__ import annotations

import asyncio
import hashlib
import heapq
import itertools
import json
import logging
import os
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from lightbox.content import suffix_for
from lightbox.crawl.discover import discover
from lightbox.crawl.fetch import CrawlConfig, FetchResult, SafeFetcher
from lightbox.crawl.frontier import host_of, n_shards, registrable_domain, shard_of, shard_rows

log = logging.getLogger(__name__)
INLINE_PARSE_BYTES = 256 * 1024  # larger pages are parsed in a thread, off the event loop


class ImageRejected(Exception):
    """The matcher could not use an image (``reason``: bad_image, not_matchable…)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


_WORKER_MATCHER = None  # set before the hash processes fork; they inherit it


def _match_in_worker(data: bytes):
    try:
        return ("ok", _WORKER_MATCHER.match(data))
    except ImageRejected as exc:
        return ("rejected", exc.reason)
    except Exception as exc:  # noqa: BLE001 - a decoder crash is this image's failure
        return ("rejected", f"bad_image: {type(exc).__name__}: {exc}"[:500])


def _match_batch_in_worker(bodies: list[bytes]) -> list:
    return [_match_in_worker(data) for data in bodies]


class _HashBatcher:
    """Image bodies go to the hash processes in batches. A pool call per image costs the
    crawler a pickle, a pipe write and a result hand-off through the pool's threads, which
    compete with the event loop for the GIL: measured, that made the crawler's CPU per request
    half as much again end to end as fetch-only. Here a body goes at once while the processes
    have room (two batches in flight per process: one hashing, one queued behind it, so a
    process never idles while a result travels back), and otherwise waits for the next batch to
    return, with everything else that arrived meanwhile (up to ``max_batch``): no timer, no
    added latency when the processes keep up, fewer and larger hand-offs when they do not."""

    def __init__(self, executor, workers: int, max_batch: int = 32):
        self.executor = executor
        self.slots = 2 * max(1, workers)
        self.max_batch = max_batch
        self.pending: list[tuple[bytes, asyncio.Future]] = []
        self.in_flight = 0

    def match(self, body: bytes) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.pending.append((body, future))
        if self.in_flight < self.slots:
            self._send()
        return future

    def _send(self) -> None:
        batch, self.pending = self.pending[:self.max_batch], self.pending[self.max_batch:]
        if not batch:
            return
        self.in_flight += 1
        try:
            done = asyncio.wrap_future(self.executor.submit(_match_batch_in_worker, [body for body, _ in batch]))
        except Exception as exc:  # noqa: BLE001 - a broken pool fails these images, not the shard
            self.in_flight -= 1
            for _, future in batch:
                future.set_exception(exc)
            return
        done.add_done_callback(lambda outcome: self._returned(batch, outcome))

    def _returned(self, batch, outcome: asyncio.Future) -> None:
        self.in_flight -= 1
        error = asyncio.CancelledError() if outcome.cancelled() else outcome.exception()
        for i, (_, future) in enumerate(batch):
            if not future.done():
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(outcome.result()[i])
        while self.pending and self.in_flight < self.slots:
            self._send()


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
    # images fetched and waiting for (or in) the hash processes: image fetches pause beyond it
    max_bodies_in_memory: int = 128
    hash_workers: int = max(1, os.cpu_count() or 1)
    # Decode and hash in forked processes: in threads they hold the GIL in turns with the
    # event loop, and every await then waits for a GIL switch (the crawl slows to a crawl).
    hash_in_processes: bool = True
    flush_seconds: float = 0.5
    progress_seconds: float = 5.0


@dataclass
class ShardStats:
    pages_fetched: int = 0
    images_fetched: int = 0
    images_matched: int = 0
    links_added: int = 0
    deferred_images: int = 0
    retries: int = 0  # attempts after a transient failure
    recovered: int = 0  # URLs fetched after at least one transient failure
    failures: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {
            "pages_fetched": self.pages_fetched, "images_fetched": self.images_fetched,
            "images_matched": self.images_matched, "links_added": self.links_added,
            "deferred_images": self.deferred_images, "retries": self.retries, "recovered": self.recovered,
            "failures": dict(self.failures),
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

    def done(self, row: dict, result: FetchResult | None, status: str, error: str | None, body_uri=None, sha=None,
             not_before: datetime | None = None) -> None:
        """Record an attempt's outcome; ``status`` pending with ``not_before`` is a retry to come."""
        headers = json.dumps(result.headers) if result is not None and result.headers else None
        self.updates.append((
            self.sweep_id, row["url"], status, (error or "")[:1000] or None, int(row.get("attempts") or 0), not_before,
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
                     source, reported_by, discovered_from) values %s on conflict (sweep_id, url) do nothing""", inserts,
                    page_size=1000)
            if refs:
                execute_values(cur, """insert into infringement.crawl_image_refs (sweep_id, page_url, image_url, found_by)
                    values %s on conflict do nothing""", refs, page_size=1000)
            if matches:
                execute_values(cur, """insert into infringement.image_matches
                    (sweep_id, image_url, photo_id, distance, method, transform, details) values %s
                    on conflict (sweep_id, image_url, photo_id) do update set distance = excluded.distance,
                    method = excluded.method, transform = excluded.transform, details = excluded.details""", matches)
            if updates:
                execute_values(cur, """update infringement.crawl_frontier f set status = v.status, last_error = v.last_error,
                    attempts = v.attempts, not_before = v.not_before, http_status = v.http_status,
                    fetched_at = v.fetched_at, final_url = v.final_url, resolved_ip = v.resolved_ip,
                    content_sha256 = v.sha, body_uri = v.body_uri, headers = v.headers::jsonb
                    from (values %s) as v (sweep_id, url, status, last_error, attempts, not_before, http_status,
                                           fetched_at, final_url, resolved_ip, sha, body_uri, headers)
                    where f.sweep_id = v.sweep_id and f.url = v.url""", updates,
                    template="(%s, %s, %s, %s, %s::int, %s::timestamptz, %s::int, %s::timestamptz, %s, %s, %s, %s, %s)",
                    page_size=1000)


class _HostQueue:
    """One host's work: entries ready to go (by priority) and retries waiting for their time."""

    __slots__ = ("ready", "delayed", "running", "next_start")

    def __init__(self):
        self.ready: list = []  # heap of (key, row)
        self.delayed: list = []  # heap of (not_before monotonic, seq, key, row)
        self.running = 0
        self.next_start = 0.0


class ShardCrawler:
    def __init__(self, conn, sweep_id: str, shard: int, matcher, fetcher: SafeFetcher, evidence_uri: str,
                 limits: ShardLimits | None = None, process_pool=None, progress=None):
        self.conn = conn
        self.sweep_id = sweep_id
        self.shard = shard
        self.matcher = matcher
        self.fetcher = fetcher
        self.config = fetcher.config
        self.evidence_uri = evidence_uri
        self.limits = limits or ShardLimits()
        self.n_shards = n_shards(conn, sweep_id)
        self.writer = _Writer(conn, sweep_id)
        self.stats = ShardStats()
        self.progress = progress or (lambda line: log.info("lightbox-progress: %s", line))
        self.known: set[str] = set()
        self.images: dict[str, asyncio.Future] = {}
        self.pages_per_site: Counter = Counter()
        self.page_digests: dict[tuple[str, str], str] = {}
        self.query_variants: Counter = Counter()
        self.process_pool = process_pool
        self.pool = None if process_pool else ThreadPoolExecutor(self.limits.hash_workers, thread_name_prefix="hash")
        self.batcher: _HashBatcher | None = None  # made on the event loop, with the first image
        # the dispatcher's state
        self.hosts: dict[str, _HostQueue] = defaultdict(_HostQueue)
        self.agenda: list = []  # heap of (when, seq, host): hosts that may have work to start then
        self.scheduled: dict[str, float] = {}
        self.seq = itertools.count()
        self.wake = asyncio.Event()
        self.outstanding = 0  # URLs of this crawl without a final outcome yet
        self.fetching = 0  # requests started and not returned
        self.hashing = 0  # image bodies fetched and not yet matched
        self.waiting_for_hash: set[str] = set()
        self.tasks: set[asyncio.Task] = set()

    # -- the host queues

    def _enqueue(self, row: dict, not_before: float | None = None) -> None:
        """Queue ``row`` on its host (images first, then photographer reports, priority, depth)."""
        key = (row["kind"] != "image", row["source"] != "photographer_report", -int(row["priority"] or 0),
               int(row["depth"]), next(self.seq))
        queue = self.hosts[row["host"]]
        now = time.monotonic()
        if not_before is not None and not_before > now:
            heapq.heappush(queue.delayed, (not_before, key, row))
            self._schedule(row["host"], not_before)
        else:
            heapq.heappush(queue.ready, (key, row))
            self._schedule(row["host"], now)

    def _schedule(self, host: str, when: float) -> None:
        current = self.scheduled.get(host)
        if current is not None and current <= when:
            return
        self.scheduled[host] = when
        heapq.heappush(self.agenda, (when, next(self.seq), host))
        self.wake.set()

    def _try_start(self, host: str, now: float) -> None:
        """Start the host's next request if its turn has come; otherwise note when it will."""
        queue = self.hosts.get(host)
        if queue is None:
            return
        while queue.delayed and queue.delayed[0][0] <= now:
            _when, key, row = heapq.heappop(queue.delayed)
            heapq.heappush(queue.ready, (key, row))
        if not queue.ready:
            if queue.delayed:
                self._schedule(host, queue.delayed[0][0])
            return
        if queue.running >= self.config.per_host_concurrency:
            return  # a request of this host returning schedules it again
        gate = self.fetcher.gate(host)
        ready_at = max(queue.next_start, gate.next_start)
        if ready_at > now:
            self._schedule(host, ready_at)
            return
        _key, row = queue.ready[0]
        if row["kind"] == "image" and self.hashing >= self.limits.max_bodies_in_memory:
            self.waiting_for_hash.add(host)  # the hash processes are behind: fetch no more images
            return
        heapq.heappop(queue.ready)
        queue.running += 1
        queue.next_start = now + gate.delay
        self.fetching += 1
        task = asyncio.create_task(self._work(row))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        if queue.ready or queue.delayed:
            self._schedule(host, queue.next_start)

    async def _dispatch(self) -> None:
        while self.outstanding > 0:
            now = time.monotonic()
            next_wake = None
            while self.agenda and self.fetching < self.config.global_concurrency:
                when, _seq, host = self.agenda[0]
                if when > now:
                    next_wake = when
                    break
                heapq.heappop(self.agenda)
                if self.scheduled.get(host) == when:
                    del self.scheduled[host]
                self._try_start(host, now)
            self.wake.clear()
            timeout = None if next_wake is None else max(0.0, next_wake - time.monotonic())
            try:
                await asyncio.wait_for(self.wake.wait(), timeout)
            except TimeoutError:
                pass

    def _returned(self, host: str) -> None:
        """A request of ``host`` returned: its slot is free."""
        self.fetching -= 1
        queue = self.hosts[host]
        queue.running -= 1
        if queue.ready or queue.delayed:
            self._schedule(host, max(queue.next_start, time.monotonic()))
        self.wake.set()

    def _finished(self, row: dict) -> None:
        if row.get("finished"):
            return
        row["finished"] = True
        self.outstanding -= 1
        if self.outstanding <= 0:
            self.wake.set()

    # -- the run

    async def run(self) -> ShardStats:
        rows = await asyncio.to_thread(shard_rows, self.conn, self.sweep_id, self.shard)
        done_images = []
        now_utc, now = datetime.now(timezone.utc), time.monotonic()
        for row in rows:
            self.known.add(row["url"])
            if row["kind"] == "page":
                self.pages_per_site[row["site"]] += 1
            if row["status"] == "pending":
                if row["kind"] == "image":
                    self.images[row["url"]] = asyncio.get_running_loop().create_future()
                not_before = row.get("not_before")
                wait = (not_before - now_utc).total_seconds() if not_before else 0.0
                self.outstanding += 1
                self._enqueue(row, now + wait if wait > 0 else None)
            elif row["kind"] == "image":
                done_images.append(row["url"])
        if done_images:  # a resumed sweep: images fetched before keep their match results
            for url, matched in (await asyncio.to_thread(self._previous_matches, done_images)).items():
                future = asyncio.get_running_loop().create_future()
                future.set_result(matched)
                self.images[url] = future
        flusher = asyncio.create_task(self._background(self.limits.flush_seconds, self.writer.flush))
        reporter = asyncio.create_task(self._background(self.limits.progress_seconds, self._report_progress))
        try:
            await self._dispatch()
            if self.tasks:
                await asyncio.gather(*list(self.tasks), return_exceptions=True)
        finally:
            for task in list(self.tasks):
                task.cancel()
            flusher.cancel()
            reporter.cancel()
            await asyncio.gather(flusher, reporter, return_exceptions=True)
            await self.writer.flush()
            if self.pool is not None:
                self.pool.shutdown(wait=True)
        self._report_progress(final=True)
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

    async def _background(self, every: float, job) -> None:
        while True:
            await asyncio.sleep(every)
            outcome = job()
            if asyncio.iscoroutine(outcome):
                await asyncio.shield(outcome)  # a flush in its thread finishes before the last one

    def _report_progress(self, final: bool = False) -> None:
        s = self.stats
        waiting = sum(len(q.delayed) for q in self.hosts.values())
        queued = sum(len(q.ready) for q in self.hosts.values())
        failures = sum(s.failures.values())
        self.progress(
            f"shard {self.shard}{' done' if final else ''}: {s.pages_fetched} pages and {s.images_fetched} images fetched, "
            f"{s.images_matched} matched, {failures} failed, {s.retries} retries ({waiting} waiting), "
            f"{queued} queued, {self.fetching} in flight"
        )

    async def _work(self, row: dict) -> None:
        """One attempt at one URL, then what follows from it."""
        host = row["host"]
        returned = False
        try:
            row["attempts"] = int(row.get("attempts") or 0) + 1
            try:
                result = await self.fetcher.fetch(row["url"], kind=row["kind"], retries=0)
            finally:
                self._returned(host)
                returned = True
            if not result.ok and result.transient and row["attempts"] <= self.config.retries:
                self._retry(row, result)
                return
            if row["kind"] == "page":
                await self._page(row, result)
            else:
                await self._image(row, result)
        except Exception as exc:  # noqa: BLE001 - one bad URL never stops the shard
            log.exception("crawl of %s failed", row["url"])
            if not returned:
                self._returned(host)
            if not row.get("finished"):
                self._fail(row, None, f"crawler_error: {type(exc).__name__}: {exc}")
            if row["kind"] == "image":
                self._resolve_image(row["url"], False)

    def _retry(self, row: dict, result: FetchResult) -> None:
        pause = self.fetcher.backoff(row["attempts"], result.retry_after)
        self.stats.retries += 1
        row["retried"] = True
        not_before = datetime.now(timezone.utc) + timedelta(seconds=pause)
        self.writer.done(row, result, "pending", result.reason, not_before=not_before)
        self._enqueue(row, time.monotonic() + pause)

    def _fail(self, row: dict, result: FetchResult | None, reason: str, status: str = "failed") -> None:
        self.stats.failures[reason.split(":", 1)[0]] += 1
        self.writer.done(row, result, status, reason)
        self._finished(row)

    def _fetched(self, row: dict, result: FetchResult, error=None, body_uri=None, sha=None) -> None:
        if row.get("retried"):
            self.stats.recovered += 1
        self.writer.done(row, result, "fetched", error, body_uri, sha)
        self._finished(row)

    # -- pages

    async def _page(self, row: dict, result: FetchResult) -> None:
        if not result.ok:
            self._fail(row, result, result.reason, "skipped" if result.error == "robots_disallowed" else "failed")
            return
        self.stats.pages_fetched += 1
        digest = hashlib.sha256(result.body).hexdigest()
        # the same page under another URL of the same host (/ and /index.html) is one sighting;
        # the same page on another host is another sighting (another infringer)
        first = self.page_digests.setdefault((row["host"], digest), row["url"])
        if first != row["url"]:
            self._fetched(row, result, f"duplicate_content: same as {first}", None, digest)
            return
        base = result.final_url or row["url"]
        content_type = result.headers.get("content-type")
        if len(result.body) > INLINE_PARSE_BYTES:
            found = await asyncio.to_thread(discover, result.body, base, content_type)
        else:
            found = discover(result.body, base, content_type)
        waits = []
        deferred = False
        for image_url, how in found.images.items():  # before the links: <a href=x.jpg><img src=x.jpg> is an image
            self.writer.refs.append((self.sweep_id, row["url"], image_url, how))
            key = registrable_domain(host_of(image_url))
            if shard_of(key, self.n_shards) == self.shard:
                waits.append(self._image_outcome(image_url, row))
            else:
                deferred = True
                self._defer_image(image_url, key, row)
        if row["depth"] < row["max_depth"]:
            for link in found.links:
                self._add_link(link, row)
        # the page's slot is free already: waiting for its images holds nothing but its body
        matched = any(await asyncio.gather(*waits)) if waits else False
        body_uri = None
        if matched or deferred:
            body_uri, _ = await self._store(result.body, ".html")
        self._fetched(row, result, None, body_uri, digest)

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
            "attempts": 0,
        }
        self.writer.insert(row)
        self.stats.links_added += 1
        self.outstanding += 1
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

    def _image_outcome(self, image_url: str, page: dict):
        """An awaitable of "did this image match?"; each image is fetched once per sweep."""
        future = self.images.get(image_url)
        if future is None:
            future = self.images[image_url] = asyncio.get_running_loop().create_future()
            key = registrable_domain(host_of(image_url))
            row = {
                "url": image_url, "kind": "image", "host": host_of(image_url), "site": page["site"],
                "shard_key": key, "shard": self.shard, "seed_url": page["seed_url"], "depth": page["depth"],
                "max_depth": page["max_depth"], "priority": page["priority"], "source": "image",
                "reported_by": page.get("reported_by"), "discovered_from": page["url"], "attempts": 0,
            }
            if image_url not in self.known:
                self.known.add(image_url)
                self.writer.insert(row)
            # else: a URL already in the frontier as a page (linked before it was shown): it is
            # fetched as an image all the same, and its frontier row tells the last outcome
            self.outstanding += 1
            self._enqueue(row)
        return asyncio.shield(future)

    def _resolve_image(self, url: str, matched: bool) -> None:
        future = self.images.get(url)
        if future is not None and not future.done():
            future.set_result(matched)

    async def _image(self, row: dict, result: FetchResult) -> None:
        url = row["url"]
        matched = False
        try:
            matched = await self._match_image(row, result)
        finally:
            self._resolve_image(url, matched)

    async def _match_image(self, row: dict, result: FetchResult) -> bool:
        url = row["url"]
        if not result.ok:
            self._fail(row, result, result.reason, "skipped" if result.error == "robots_disallowed" else "failed")
            return False
        self.stats.images_fetched += 1
        loop = asyncio.get_running_loop()
        self.hashing += 1
        try:
            if self.process_pool is not None:
                if self.batcher is None:
                    self.batcher = _HashBatcher(self.process_pool, self.limits.hash_workers)
                outcome, value = await self.batcher.match(result.body)
            else:
                global _WORKER_MATCHER
                _WORKER_MATCHER = self.matcher
                outcome, value = await loop.run_in_executor(self.pool, _match_in_worker, result.body)
        finally:
            self.hashing -= 1
            if self.waiting_for_hash:
                now = time.monotonic()
                for host in self.waiting_for_hash:
                    self._schedule(host, now)
                self.waiting_for_hash.clear()
        if outcome != "ok":
            self._fail(row, result, value)
            return False
        matches = value
        body_uri = sha = None
        if matches:
            self.stats.images_matched += 1
            body_uri, sha = await self._store(result.body, suffix_for(result.body))
            for m in matches:
                self.writer.matches.append((
                    self.sweep_id, url, m["photo_id"], m["distance"], m["method"], m.get("transform"),
                    json.dumps(m.get("details") or {}, default=str),
                ))
        self._fetched(row, result, None, body_uri, sha)
        return bool(matches)

    async def _store(self, data: bytes, suffix: str) -> tuple[str, str]:
        from lightbox.objects import put_content_addressed

        return await asyncio.to_thread(put_content_addressed, self.evidence_uri, data, suffix)


async def crawl_shard_async(conn, sweep_id: str, shard: int, matcher, settings=None,
                            config: CrawlConfig | None = None, limits: ShardLimits | None = None,
                            process_pool=None, progress=None) -> dict:
    if settings is None:
        from lightbox.config import settings as current

        settings = current()
    started = time.monotonic()
    async with SafeFetcher(settings, config) as fetcher:
        crawler = ShardCrawler(conn, sweep_id, shard, matcher, fetcher, settings.evidence_uri, limits, process_pool,
                               progress)
        stats = await crawler.run()
    summary = stats.as_dict() | {"shard": shard, "seconds": round(time.monotonic() - started, 2)}
    log.info("shard %s of sweep %s: %s", shard, sweep_id, summary)
    return summary


def crawl_shard(conn, sweep_id: str, shard: int, matcher, settings=None,
                config: CrawlConfig | None = None, limits: ShardLimits | None = None, progress=None) -> dict:
    """Crawl the pending rows of one shard to the end (synchronous entry point for tasks).
    ``matcher``: an object with ``match(bytes) -> [match dict]`` (the sweep's CatalogMatcher)."""
    limits = limits or ShardLimits()
    pool = None
    if limits.hash_in_processes:
        try:
            pool = start_hash_pool(matcher, limits.hash_workers)
        except (AssertionError, OSError, ValueError) as exc:  # e.g. inside a daemonic process
            log.warning("hashing in threads, not processes: %s", exc)
    try:
        return asyncio.run(crawl_shard_async(conn, sweep_id, shard, matcher, settings, config, limits, pool, progress))
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

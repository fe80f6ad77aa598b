"""The audit itself: read the listings, fetch each listing's image with the crawler's safety
rules, hash it with the matching engine, look it up among the exclusive photos, and record
what a match means.

- The listing's contributor is the photo's owner (their username now, or any username they
  used before, from ``raw.users_history``), or the contributor is unknown: an **exclusivity
  violation** (``exclusivity.violations``; the photo goes on hold, see ``holds``). An
  unknown contributor is treated as a violation on purpose: a person decides before anyone
  is accused.
- Someone else: an **infringement by a stock contributor**: an infringement case on the
  stock site's registrable domain (``infringement.cases``/``infringement.matches``), unless
  the photo is on hold (the match is ``exclusivity_hold``, no case) or the site holds a
  license for the photo (``licensed``).

Every listing checked is a row of ``exclusivity.listing_checks`` for the audit (keyed by
``as_of``, the DAG's data interval end) with its outcome or the reason it could not be
checked. Every write is an upsert keyed by data: rerunning an audit changes nothing.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from lightbox.domains import registrable_domain
from lightbox.exclusivity.connectors import ConnectorResult, Listing, configured_connectors, read_all
from lightbox.infringement import cases

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 25 * 1024 * 1024
BATCH_SIZE = 256
CONCURRENCY = 16


# --------------------------------------------------------------------------- fetch_listings


def fetch_listings(conn, as_of: datetime, connectors: Iterable | None = None) -> dict:
    """Read every connector and store this audit's listings (status ``pending``) and the
    feed problems, replacing the audit's partition (rerun-safe)."""
    from psycopg2.extras import Json, execute_values

    result: ConnectorResult = read_all(connectors if connectors is not None else configured_connectors(conn))
    with conn.cursor() as cur:
        cur.execute("delete from exclusivity.listing_checks where as_of = %s", (as_of,))
        cur.execute("delete from exclusivity.feed_errors where as_of = %s", (as_of,))
        execute_values(
            cur,
            "insert into exclusivity.listing_checks (as_of, site, listing_id, source, listing_url, image_url,"
            " contributor, title, listed_at, status) values %s",
            [
                (as_of, l.site, l.listing_id, l.source, l.listing_url, l.image_url, l.contributor, l.title, l.listed_at, "pending")
                for l in result.listings
            ],
            page_size=1000,
        )
        execute_values(
            cur,
            "insert into exclusivity.feed_errors (as_of, site, source_url, listing_id, kind, reason, detail) values %s",
            [(as_of, e.site, e.source_url, e.listing_id, e.kind, e.reason, Json(e.detail)) for e in result.errors],
        )
    conn.commit()
    by_site: dict[str, int] = defaultdict(int)
    for listing in result.listings:
        by_site[listing.site] += 1
    for error in result.errors:
        log.warning("stock listings %s: %s (%s)", error.site, error.reason, error.kind)
    return {"listings": len(result.listings), "feed_errors": len(result.errors), "by_site": dict(by_site)}


# --------------------------------------------------------------------------- match_listings


@dataclass
class Outcome:
    """What came of one listing: its image fetched (or why not), hashed, matched."""

    listing: Listing
    status: str = "no_match"
    reason: str | None = None
    body: bytes | None = None
    content_type: str | None = None
    final_url: str | None = None
    resolved_ip: str | None = None
    fetched_at: datetime | None = None
    headers: dict = field(default_factory=dict)
    image_sha256: str | None = None
    hashes: dict | None = None
    matches: list = field(default_factory=list)


@dataclass
class Timings:
    """Seconds spent per phase, summed over listings (fetches overlap, so fetch time is
    latency, not wall time)."""

    fetch: float = 0.0
    decode_hash: float = 0.0  # hash_image decodes and hashes in one call
    match: float = 0.0
    record: float = 0.0

    def as_dict(self) -> dict:
        return {k: round(v, 3) for k, v in dataclasses.asdict(self).items()}


def _hash_in_worker(data: bytes):
    """Decode and hash one image with the matching engine (in a worker process when there
    is one). Returns (HashResult or None, reason, seconds)."""
    from lightbox.matching import BadImage, hash_image

    t0 = time.perf_counter()
    try:
        result = hash_image(data)
    except BadImage as exc:
        return None, exc.reason, time.perf_counter() - t0
    except Exception as exc:  # noqa: BLE001 - one bad image never stops the batch
        return None, f"hashing failed: {type(exc).__name__}: {exc}", time.perf_counter() - t0
    return result, None, time.perf_counter() - t0


def hash_summary(result) -> dict:
    """A JSON-able summary of a HashResult for evidence: the format of
    ``matching.photo_hashes``' descriptors."""
    return result.to_record()


def _jsonable(value, depth: int = 0):
    if depth > 4:
        return repr(value)[:200]
    if isinstance(value, dict):
        return {str(k): _jsonable(v, depth + 1) for k, v in list(value.items())[:64]}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, depth + 1) for v in list(value)[:64]]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if hasattr(value, "tobytes") and hasattr(value, "dtype"):  # numpy arrays and scalars
        if getattr(value, "ndim", 0) == 0:
            return value.item()
        if str(value.dtype) in ("uint8", "bool") and value.size <= 4096:
            import numpy as np

            return np.packbits(value).tobytes().hex() if str(value.dtype) == "bool" else value.tobytes().hex()
        return f"<array {value.dtype} {tuple(value.shape)}>"
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if dataclasses.is_dataclass(value):
        return _jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, depth + 1)
    return repr(value)[:200]


class MatchContext:
    """What the classification needs to know about photos, owners, holds and licenses;
    loaded lazily for the photos that matched."""

    def __init__(self, conn, as_of: datetime):
        self.conn = conn
        self.as_of = as_of
        self._photos: dict[str, dict] = {}

    def photos(self, photo_ids: Iterable[str]) -> dict[str, dict]:
        missing = sorted({p for p in photo_ids if p not in self._photos})
        if missing:
            with self.conn.cursor() as cur:
                cur.execute(
                    """
                    with wanted as (select unnest(%s::text[]) as photo_id),
                    exclusive_since as (
                        select h.photo_id, min(coalesce(h.updated_at, h._arrived_at)) as since
                        from raw.photos_history as h
                        join wanted using (photo_id)
                        where h.exclusive
                        group by h.photo_id
                    ),
                    names as (
                        select user_id, lower(trim(username)) as username from raw.users where username is not null
                        union
                        select user_id, lower(trim(username)) from raw.users_history where username is not null
                    )
                    select p.photo_id, p.owner_id, p.uploaded_at,
                           -- since when the one rule protects it: support's change, the
                           -- first version flagged exclusive, or the upload (owner default)
                           case x.exclusive_source
                               when 'support_change' then x.changed_at
                               else coalesce(e.since, p.uploaded_at)
                           end,
                           u.username,
                           coalesce((select array_agg(distinct n.username) from names as n where n.user_id = p.owner_id), '{}')
                    from raw.photos as p
                    join wanted using (photo_id)
                    left join licensing.photo_exclusivity as x using (photo_id)
                    left join exclusive_since as e using (photo_id)
                    left join raw.users as u on u.user_id = p.owner_id
                    """,
                    (missing,),
                )
                for photo_id, owner_id, uploaded_at, exclusive_since, username, names in cur.fetchall():
                    self._photos[photo_id] = {
                        "owner_id": owner_id,
                        "uploaded_at": uploaded_at,
                        "exclusive_since": exclusive_since,
                        "username": username,
                        "usernames": set(names or ()),
                    }
            for photo_id in missing:
                self._photos.setdefault(photo_id, {"owner_id": None, "uploaded_at": None, "exclusive_since": None, "username": None, "usernames": set()})
        return {p: self._photos[p] for p in photo_ids}

    def held(self, photo_ids: Iterable[str]) -> set[str]:
        ids = sorted(set(photo_ids))
        if not ids:
            return set()
        with self.conn.cursor() as cur:
            cur.execute("select photo_id from exclusivity.holds where photo_id = any(%s)", (ids,))
            return {r[0] for r in cur.fetchall()}

    def licensed(self, photo_id: str, domain: str) -> bool:
        with self.conn.cursor() as cur:
            cur.execute(
                """
                select 1 from raw.licenses
                where photo_id = %s and licensee_domain is not null
                  and (lower(licensee_domain) = %s or %s like '%%.' || lower(licensee_domain))
                  and starts_at <= %s and (ends_at is null or ends_at > %s)
                limit 1
                """,
                (photo_id, domain, domain, self.as_of, self.as_of),
            )
            return cur.fetchone() is not None


def normalise_name(name: str | None) -> str | None:
    if name is None:
        return None
    name = name.strip().lstrip("@").strip().lower()
    return name or None


def is_own_listing(contributor: str | None, owner: dict) -> bool | None:
    """True: the owner's listing; False: someone else's; None: contributor unknown."""
    name = normalise_name(contributor)
    if name is None:
        return None
    return name in owner["usernames"] or (owner["username"] is not None and name == normalise_name(owner["username"]))


def _own_domain(domain: str, own: tuple[str, ...]) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in own)


def store_evidence(outcome: Outcome, match, as_of: datetime, page: dict | None, evidence_base: str) -> str:
    """Store the image and the listing page by content hash, and a manifest linking them
    with the hashes, the match and the fetch details. Returns the manifest's URL."""
    from lightbox.content import suffix_for
    from lightbox.objects import put_content_addressed

    image_uri, image_sha = put_content_addressed(evidence_base, outcome.body, suffix_for(outcome.body))
    listing = outcome.listing
    manifest = {
        "kind": "exclusivity_listing",
        "site": listing.site,
        "listing_id": listing.listing_id,
        "listing_url": listing.listing_url,
        "contributor": listing.contributor,
        "listed_at": listing.listed_at.isoformat() if listing.listed_at else None,
        "image": {
            "url": listing.image_url,
            "final_url": outcome.final_url,
            "resolved_ip": outcome.resolved_ip,
            "fetched_at": outcome.fetched_at.isoformat() if isinstance(outcome.fetched_at, datetime) else outcome.fetched_at,
            "headers": outcome.headers,
            "sha256": image_sha,
            "uri": image_uri,
        },
        "listing_page": page,
        "hashes": outcome.hashes,
        "match": {
            "photo_id": match.photo_id,
            "distance": float(match.distance),
            "method": match.method,
            "transform": match.transform,
            "details": _jsonable(match.details),
        },
        "detected_at": as_of.isoformat(),
    }
    data = json.dumps(manifest, sort_keys=True, default=str, indent=1).encode()
    uri, _ = put_content_addressed(evidence_base, data, ".json")
    return uri


async def _fetch_one(fetcher, url: str, kind: str):
    """(result, error reason) of one safe fetch."""
    try:
        result = await fetcher.fetch(url, kind=kind)
    except Exception as exc:  # noqa: BLE001 - recorded with its reason
        return None, getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
    error = getattr(result, "error", None)
    status = getattr(result, "status", None)
    if error:
        return result, str(getattr(result, "reason", None) or error)
    if status is not None and not 200 <= int(status) < 300:
        return result, f"HTTP {status}"
    if not result.body:
        return result, "empty response"
    return result, None


def _pick_matches(matches) -> list:
    """One match per photo: the closest."""
    best: dict[str, object] = {}
    for m in matches or ():
        if m.photo_id not in best or m.distance < best[m.photo_id].distance:
            best[m.photo_id] = m
    return sorted(best.values(), key=lambda m: (m.distance, m.photo_id))


@dataclass
class ImageCheck:
    """What decoding, hashing and querying one image gave (small: crosses processes)."""

    matches: list | None = None  # None: the image could not be hashed
    reason: str | None = None
    hash_seconds: float = 0.0
    match_seconds: float = 0.0
    hashes: dict | None = None  # the descriptor, kept for evidence when something matched
    featureless: bool = False


def check_image(index, data: bytes) -> ImageCheck:
    """Decode, hash and look up one listing image."""
    hashed, reason, hash_seconds = _hash_in_worker(data)
    return query_hashed(index, hashed, reason, hash_seconds)


def query_hashed(index, hashed, reason: str | None = None, hash_seconds: float = 0.0) -> ImageCheck:
    """Look up a hashed listing image (``hashed`` None: it could not be hashed, ``reason``)."""
    if hashed is None:
        return ImageCheck(None, reason, hash_seconds)
    if not getattr(hashed, "matchable", True):
        quality = getattr(hashed, "quality", 0.0)
        return ImageCheck([], f"featureless image (quality {quality:.2f}): not matched", hash_seconds, featureless=True)
    t0 = time.perf_counter()
    found = _pick_matches(index.query(hashed))
    match_seconds = time.perf_counter() - t0
    return ImageCheck(found, None, hash_seconds, match_seconds, hash_summary(hashed) if found else None)


async def _check_batch(listings, fetcher, index, executor, query_thread, timings: Timings, concurrency: int) -> list[Outcome]:
    loop = asyncio.get_running_loop()
    semaphore = asyncio.Semaphore(concurrency)

    async def one(listing: Listing) -> Outcome:
        outcome = Outcome(listing)
        scheme = urlsplit(listing.image_url).scheme.lower()
        if scheme not in ("http", "https"):
            outcome.status, outcome.reason = "fetch_error", f"image URL scheme {scheme or '(none)'!r} is not http or https"
            return outcome
        async with semaphore:
            t0 = time.perf_counter()
            result, error = await _fetch_one(fetcher, listing.image_url, "image")
            timings.fetch += time.perf_counter() - t0
        if error:
            outcome.status, outcome.reason = "fetch_error", error
            return outcome
        outcome.body = bytes(result.body)
        outcome.final_url = getattr(result, "final_url", None)
        outcome.resolved_ip = str(getattr(result, "resolved_ip", None) or "") or None
        outcome.fetched_at = getattr(result, "fetched_at", None)
        headers = getattr(result, "headers", None) or {}
        outcome.headers = {str(k).lower(): str(v) for k, v in dict(headers).items()}
        outcome.content_type = outcome.headers.get("content-type")
        # CPU work: off the event loop, so that fetches go on. Decoding and hashing go to the
        # worker processes when there are some; queries stay in this process, on the one
        # index (hundreds of MB at 100,000 photos), in the query threads.
        if executor is None:
            check = await loop.run_in_executor(query_thread, check_image, index, outcome.body)
        else:
            hashed, reason, seconds = await loop.run_in_executor(executor, _hash_in_worker, outcome.body)
            check = await loop.run_in_executor(query_thread, query_hashed, index, hashed, reason, seconds)
        timings.decode_hash += check.hash_seconds
        timings.match += check.match_seconds
        from lightbox.objects import sha256_hex

        outcome.image_sha256 = sha256_hex(outcome.body)
        if check.matches is None:
            outcome.status, outcome.reason = "bad_image", check.reason
        elif check.featureless:
            outcome.status, outcome.reason = "no_match", check.reason
        outcome.matches = check.matches or []
        outcome.hashes = check.hashes
        if not outcome.matches:
            outcome.body = None  # keep memory flat: only matched images are stored
        return outcome

    return await asyncio.gather(*(one(listing) for listing in listings))


async def _fetch_page(fetcher, listing: Listing, evidence_base: str) -> dict | None:
    if not listing.listing_url or urlsplit(listing.listing_url).scheme not in ("http", "https"):
        return None
    from lightbox.objects import put_content_addressed

    result, error = await _fetch_one(fetcher, listing.listing_url, "page")
    if error:
        return {"url": listing.listing_url, "error": error}
    uri, sha = put_content_addressed(evidence_base, bytes(result.body), ".html")
    return {
        "url": listing.listing_url,
        "final_url": getattr(result, "final_url", None),
        "status": getattr(result, "status", None),
        "resolved_ip": str(getattr(result, "resolved_ip", "") or "") or None,
        "sha256": sha,
        "uri": uri,
    }


def audit_index(conn):
    """The matching engine's catalogue index: every photo exclusive by the one rule, those on
    exclusivity hold included (a held photo listed on a third site is another violation,
    and a rerun must find the same)."""
    from lightbox.matching.catalog import load_index

    return load_index(conn)


def _pending(conn, as_of: datetime) -> list[Listing]:
    with conn.cursor() as cur:
        cur.execute(
            "select site, listing_id, image_url, listing_url, contributor, title, listed_at, source"
            " from exclusivity.listing_checks where as_of = %s and status = 'pending' order by site, listing_id",
            (as_of,),
        )
        return [Listing(*row) for row in cur.fetchall()]


def match_listings(
    conn,
    as_of: datetime,
    index=None,
    fetcher_factory: Callable | None = None,
    workers: int | None = None,
    concurrency: int = CONCURRENCY,
    batch_size: int = BATCH_SIZE,
    fetch_pages: bool = True,
    per_host_concurrency: int = 8,
    per_host_delay: float = 0.0,
    query_threads: int = 2,
) -> dict:
    """Check every pending listing of the audit ``as_of``. Returns counts by outcome and
    the time spent per phase."""
    from lightbox.config import settings

    cfg = settings()
    if index is None:
        index = audit_index(conn)
    if fetcher_factory is None:
        from lightbox.crawl.fetch import SafeFetcher

        # A stock site's images usually come from one CDN host: the crawler's default
        # politeness (2 at a time, 0.25 s apart) would make an audit take hours.
        def fetcher_factory():
            return SafeFetcher(cfg, per_host_concurrency=per_host_concurrency, per_host_delay=per_host_delay)
    pending = _pending(conn, as_of)
    counts: dict[str, int] = defaultdict(int)
    timings = Timings()
    if workers is None:
        workers = 2 if len(pending) >= 2000 else 0
    executor = _executor(workers)
    started = time.perf_counter()
    try:
        asyncio.run(
            _match_all(conn, as_of, pending, index, fetcher_factory, executor, timings, counts, cfg, concurrency, batch_size, fetch_pages, query_threads)
        )
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
    return {
        "listings": len(pending),
        "outcomes": dict(counts),
        "seconds": round(time.perf_counter() - started, 3),
        "timings": timings.as_dict(),
    }


def _executor(workers: int) -> Executor | None:
    """Worker processes that decode and hash. Spawned, not forked: the parent has an event
    loop, HTTP connections and (through numba) an OpenMP runtime, none of which survive a
    fork."""
    if workers <= 0:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


async def _match_all(conn, as_of, pending, index, fetcher_factory, executor, timings, counts, cfg, concurrency, batch_size, fetch_pages, query_threads):
    from concurrent.futures import ThreadPoolExecutor

    ctx = MatchContext(conn, as_of)
    batches = [pending[i : i + batch_size] for i in range(0, len(pending), batch_size)]
    # Queries only read the index once its search tables exist (they are built lazily: build
    # them first); its numpy/numba kernels release the GIL, so two threads use two cores.
    index.prepare()
    with ThreadPoolExecutor(query_threads, thread_name_prefix="exclusivity-query") as query_thread:
        async with fetcher_factory() as fetcher:

            def check(batch):
                return asyncio.ensure_future(_check_batch(batch, fetcher, index, executor, query_thread, timings, concurrency))

            upcoming = check(batches[0]) if batches else None
            for i in range(len(batches)):
                outcomes = await upcoming
                # the next batch fetches and hashes while this one is written
                upcoming = check(batches[i + 1]) if i + 1 < len(batches) else None
                t0 = time.perf_counter()
                pages = {}
                if fetch_pages:
                    matched = [o.listing for o in outcomes if o.matches]
                    fetched = await asyncio.gather(*(_fetch_page(fetcher, l, cfg.evidence_uri) for l in matched))
                    pages = {(l.site, l.listing_id): p for l, p in zip(matched, fetched)}
                record_outcomes(conn, as_of, outcomes, ctx, cfg, pages)
                timings.record += time.perf_counter() - t0
                for outcome in outcomes:
                    counts[outcome.status] += 1


def record_outcomes(conn, as_of: datetime, outcomes: list[Outcome], ctx: MatchContext, cfg, pages: dict) -> None:
    """Write violations first, then infringements (which respect holds, including the ones
    this batch just created), then each listing's outcome."""
    matched = [o for o in outcomes if o.matches]
    photos = ctx.photos({m.photo_id for o in matched for m in o.matches})
    stolen: list[tuple[Outcome, object, str]] = []
    check_rows = []
    with conn.cursor() as cur:
        for outcome in matched:
            listing = outcome.listing
            domain = registrable_domain(listing.site if "." in listing.site else (listing.listing_url or listing.image_url))
            if _own_domain(domain, cfg.own_domains):
                outcome.status, outcome.reason = "no_match", f"{domain} is one of the marketplace's own domains"
                continue
            statuses = []
            for match in outcome.matches:
                owner = photos[match.photo_id]
                own = is_own_listing(listing.contributor, owner)
                evidence = store_evidence(outcome, match, as_of, pages.get((listing.site, listing.listing_id)), cfg.evidence_uri)
                if own is False:
                    stolen.append((outcome, match, evidence))
                    statuses.append("infringement")
                    continue
                _upsert_violation(cur, as_of, outcome, match, owner, evidence)
                statuses.append("violation")
            outcome.status = "violation" if "violation" in statuses else "infringement"
            if listing.contributor is None and "violation" in statuses:
                outcome.reason = "contributor unknown: treated as the owner's listing until a person decides"
        held = ctx.held({m.photo_id for _, m, _ in stolen})
        for outcome, match, evidence in stolen:
            listing = outcome.listing
            domain = registrable_domain(listing.site if "." in listing.site else (listing.listing_url or listing.image_url))
            owner = photos[match.photo_id]
            if match.photo_id in held:
                status = "exclusivity_hold"
            elif ctx.licensed(match.photo_id, domain):
                status = "licensed"
            else:
                status = "case"
            _upsert_infringement(cur, as_of, outcome, match, owner, domain, evidence, status)
            if status != "case" and outcome.status == "infringement":
                outcome.status = "held" if status == "exclusivity_hold" else "no_match"
                outcome.reason = "photo is on exclusivity hold: no case opened" if status == "exclusivity_hold" else f"{domain} holds a license for the photo"
        for outcome in outcomes:
            best = outcome.matches[0] if outcome.matches else None
            check_rows.append(
                (
                    outcome.status,
                    outcome.reason,
                    outcome.image_sha256,
                    best.photo_id if best else None,
                    float(best.distance) if best else None,
                    best.method if best else None,
                    as_of,
                    as_of,
                    outcome.listing.site,
                    outcome.listing.listing_id,
                )
            )
        from psycopg2.extras import execute_batch

        execute_batch(
            cur,
            "update exclusivity.listing_checks set status = %s, reason = %s, image_sha256 = %s, photo_id = %s,"
            " distance = %s, method = %s, checked_at = %s where as_of = %s and site = %s and listing_id = %s",
            check_rows,
            page_size=500,
        )
    conn.commit()


def _upsert_violation(cur, as_of, outcome: Outcome, match, owner: dict, evidence: str) -> None:
    listing = outcome.listing
    listed_at = listing.listed_at

    def before(when):
        return None if listed_at is None or when is None else listed_at < when

    cur.execute(
        """
        insert into exclusivity.violations (photo_id, site, listing_id, listing_url, image_url, contributor,
            distance, method, transform, detected_at, last_seen_at, status, evidence_uri, image_sha256,
            listed_at, listing_predates_upload, listing_predates_exclusive)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'open', %s, %s, %s, %s, %s)
        on conflict (photo_id, site, listing_url) do update set
            last_seen_at = greatest(exclusivity.violations.last_seen_at, excluded.last_seen_at),
            evidence_uri = coalesce(exclusivity.violations.evidence_uri, excluded.evidence_uri)
        """,
        (
            match.photo_id,
            listing.site,
            listing.listing_id,
            listing.listing_url or listing.image_url,
            listing.image_url,
            listing.contributor,
            float(match.distance),
            match.method,
            match.transform,
            as_of,
            as_of,
            evidence,
            outcome.image_sha256,
            listed_at,
            before(owner["uploaded_at"]),
            before(owner["exclusive_since"]),
        ),
    )


def _upsert_infringement(cur, as_of, outcome: Outcome, match, owner: dict, domain: str, evidence: str, status: str) -> None:
    """An infringement by a stock contributor: one match per listing image and, when it is a
    case, the case of the photo and domain, both written by the one writer the infringement
    sweep uses (so the two share case ids and rules)."""
    listing = outcome.listing
    case_id = cases.case_id_for(match.photo_id, domain) if status == "case" else None
    cases.upsert_matches(cur, [(
        match.photo_id, listing.listing_url or listing.image_url, listing.image_url, float(match.distance),
        match.method, match.transform, as_of, as_of, evidence, status, domain, case_id, None, None,
    )])
    if case_id is not None:
        cases.upsert_case(cur, match.photo_id, owner["owner_id"], domain, as_of, evidence)

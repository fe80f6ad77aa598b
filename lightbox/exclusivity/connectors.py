"""Stock-site connectors: where the audit's listings come from, behind one small interface.

A connector's ``read()`` returns a ``ConnectorResult``: the listings it found (each with the
URL of its image) and the problems it met (``FeedError``: a feed that cannot be fetched or
parsed, a listing without an id or an image, a listing id seen twice). A bad feed never
stops the audit: its problems are recorded and the other sources are read.

- ``LandingConnector`` reads the ``stock_listings`` landing source (``raw.stock_listings``).
- ``FeedConnector`` reads one site's JSON listing feed over HTTP through the crawler's safe
  fetcher (public addresses only, bounded bytes and time), e.g. ``LIGHTBOX_STOCK_FEEDS=
  "pixelstockr.com=http://pixelstockr.com:8765/feed.json"``.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol
from urllib.parse import urljoin, urlsplit

MAX_FEED_BYTES = 32 * 1024 * 1024
MAX_FEED_LISTINGS = 1_000_000

# Field names a feed may use for each listing attribute (first one present wins).
FIELD_ALIASES = {
    "listing_id": ("listing_id", "id", "asset_id"),
    "listing_url": ("listing_url", "url", "page_url", "link"),
    "image_url": ("image_url", "image", "preview_url", "thumbnail_url", "src"),
    "contributor": ("contributor", "author", "photographer", "username", "creator"),
    "title": ("title", "name"),
    "listed_at": ("listed_at", "published_at", "created_at", "date"),
}


@dataclass(frozen=True)
class Listing:
    site: str
    listing_id: str
    image_url: str
    listing_url: str | None = None
    contributor: str | None = None
    title: str | None = None
    listed_at: datetime | None = None
    source: str = "landing"


@dataclass(frozen=True)
class FeedError:
    site: str
    kind: str  # feed_unreachable, feed_parse, feed_shape, missing_field, bad_field, duplicate_listing_id
    reason: str
    source_url: str | None = None
    listing_id: str | None = None
    detail: dict = field(default_factory=dict)


@dataclass
class ConnectorResult:
    listings: list[Listing] = field(default_factory=list)
    errors: list[FeedError] = field(default_factory=list)


class Connector(Protocol):
    name: str

    def read(self) -> ConnectorResult: ...


def site_of(url: str | None) -> str | None:
    if not url:
        return None
    host = urlsplit(url).hostname
    return host.lower() if host else None


def _dedupe(listings: list[Listing], errors: list[FeedError], source_url: str | None) -> list[Listing]:
    seen: dict[tuple[str, str], Listing] = {}
    for listing in listings:
        key = (listing.site, listing.listing_id)
        if key in seen:
            first = seen[key]
            errors.append(
                FeedError(
                    listing.site,
                    "duplicate_listing_id",
                    f"listing id {listing.listing_id!r} appears more than once; the first is kept",
                    source_url,
                    listing.listing_id,
                    {"kept_image_url": first.image_url, "dropped_image_url": listing.image_url},
                )
            )
            continue
        seen[key] = listing
    return list(seen.values())


class LandingConnector:
    """Listings delivered in the ``stock_listings`` landing source (current row per key)."""

    name = "landing:stock_listings"

    def __init__(self, conn, sites: list[str] | None = None):
        self.conn = conn
        self.sites = sites

    def read(self) -> ConnectorResult:
        result = ConnectorResult()
        sql = (
            "select site, listing_id, listing_url, image_url, contributor, title, listed_at "
            "from raw.stock_listings"
        )
        params: tuple = ()
        if self.sites:
            sql += " where site = any(%s)"
            params = (list(self.sites),)
        with self.conn.cursor() as cur:
            cur.execute(sql + " order by site, listing_id", params)
            rows = cur.fetchall()
        for site, listing_id, listing_url, image_url, contributor, title, listed_at in rows:
            if not image_url:
                result.errors.append(
                    FeedError(site, "missing_field", "listing has no image_url", None, listing_id)
                )
                continue
            result.listings.append(
                Listing(
                    site=site.lower(),
                    listing_id=listing_id,
                    image_url=image_url.strip(),
                    listing_url=(listing_url or "").strip() or None,
                    contributor=contributor,
                    title=title,
                    listed_at=listed_at,
                    source="landing",
                )
            )
        return result


def _pick(item: dict, name: str):
    for alias in FIELD_ALIASES[name]:
        value = item.get(alias)
        if value not in (None, ""):
            return value
    return None


def _parse_time(value) -> datetime:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def parse_feed(site: str, body: bytes, feed_url: str) -> ConnectorResult:
    """Listings of a JSON feed: a list of listing objects, or an object holding that list
    under ``listings``/``items``/``results``/``data``. Relative URLs are resolved against
    the feed's URL. Each problem is a ``FeedError``; the good listings are kept."""
    result = ConnectorResult()
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        result.errors.append(FeedError(site, "feed_parse", f"feed is not valid JSON: {exc}", feed_url))
        return result
    items = document
    if isinstance(document, dict):
        items = next(
            (document[k] for k in ("listings", "items", "results", "data") if isinstance(document.get(k), list)),
            None,
        )
    if not isinstance(items, list):
        result.errors.append(
            FeedError(site, "feed_shape", "feed holds no list of listings (expected a list or {\"listings\": [...]})", feed_url)
        )
        return result
    if len(items) > MAX_FEED_LISTINGS:
        result.errors.append(
            FeedError(site, "feed_shape", f"feed lists {len(items)} listings; only the first {MAX_FEED_LISTINGS} are read", feed_url)
        )
        items = items[:MAX_FEED_LISTINGS]
    listings = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            result.errors.append(
                FeedError(site, "feed_shape", f"item {index} is a {type(item).__name__}, not an object", feed_url, None, {"index": index})
            )
            continue
        listing_id = _pick(item, "listing_id")
        image_url = _pick(item, "image_url")
        missing = [name for name, value in (("listing_id", listing_id), ("image_url", image_url)) if value is None]
        if missing:
            result.errors.append(
                FeedError(
                    site,
                    "missing_field",
                    f"item {index} has no {' and no '.join(missing)}",
                    feed_url,
                    str(listing_id) if listing_id is not None else None,
                    {"index": index, "missing": missing},
                )
            )
            continue
        if not isinstance(image_url, str) or isinstance(listing_id, (dict, list, bool)):
            result.errors.append(
                FeedError(site, "bad_field", f"item {index}: listing_id or image_url has the wrong type", feed_url, None, {"index": index})
            )
            continue
        listed_at = None
        raw_time = _pick(item, "listed_at")
        if raw_time is not None:
            try:
                listed_at = _parse_time(raw_time)
            except (ValueError, TypeError, OverflowError, OSError):
                result.errors.append(
                    FeedError(site, "bad_field", f"item {index}: listed_at {str(raw_time)[:80]!r} is not a timestamp; kept without it", feed_url, str(listing_id))
                )
        listing_url = _pick(item, "listing_url")
        contributor = _pick(item, "contributor")
        title = _pick(item, "title")
        listings.append(
            Listing(
                site=site,
                listing_id=str(listing_id),
                image_url=urljoin(feed_url, image_url.strip()),
                listing_url=urljoin(feed_url, str(listing_url).strip()) if listing_url else None,
                contributor=str(contributor) if contributor is not None else None,
                title=str(title)[:1000] if title is not None else None,
                listed_at=listed_at,
                source="feed",
            )
        )
    result.listings = _dedupe(listings, result.errors, feed_url)
    return result


def _default_fetch(url: str, max_bytes: int) -> bytes:
    from lightbox.crawl.fetch import fetch_bytes  # the crawler's safety rules and limits

    return fetch_bytes(url, max_bytes=max_bytes, kind="feed")


class FeedConnector:
    """One stock site's JSON listing feed, fetched with the crawler's safety rules."""

    def __init__(self, site: str, url: str, fetch: Callable[[str, int], bytes] | None = None):
        site = site.strip().lower()
        if "." not in site and site_of(url):
            # "pixelstockr=http://pixelstockr.com/feed.json": name the site by its domain, as
            # the stock_listings source does
            from lightbox.domains import registrable_domain

            site = registrable_domain(site_of(url))
        self.site = site
        self.url = url
        self.name = f"feed:{self.site}"
        self._fetch = fetch or _default_fetch

    def read(self) -> ConnectorResult:
        try:
            body = self._fetch(self.url, MAX_FEED_BYTES)
        except Exception as exc:  # noqa: BLE001 - every fetch failure is recorded with its reason
            reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
            return ConnectorResult(errors=[FeedError(self.site, "feed_unreachable", f"feed fetch failed: {reason}", self.url)])
        return parse_feed(self.site, body, self.url)


def configured_connectors(conn, cfg=None) -> list:
    """The landing source plus one feed connector per ``LIGHTBOX_STOCK_FEEDS`` entry."""
    from lightbox.config import settings

    cfg = cfg or settings()
    connectors: list = [LandingConnector(conn)]
    for site, url in sorted(cfg.stock_feeds.items()):
        connectors.append(FeedConnector(site, url))
    return connectors


def read_all(connectors) -> ConnectorResult:
    """Every connector's listings and problems; a listing key seen in two sources is read
    once (the first source wins)."""
    combined = ConnectorResult()
    for connector in connectors:
        try:
            result = connector.read()
        except Exception as exc:  # noqa: BLE001 - one broken source never stops the audit
            combined.errors.append(FeedError(getattr(connector, "site", connector.name), "connector_failed", f"{type(exc).__name__}: {exc}"))
            continue
        combined.listings.extend(result.listings)
        combined.errors.extend(result.errors)
    seen = set()
    unique = []
    for listing in combined.listings:
        key = (listing.site, listing.listing_id)
        if key not in seen:
            seen.add(key)
            unique.append(listing)
    combined.listings = unique
    return combined

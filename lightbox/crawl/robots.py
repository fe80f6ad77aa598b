"""robots.txt per RFC 9309, parsed and matched by protego (the parser Scrapy uses: the group
for our product token, else the ``*`` group; longest match wins, ``allow`` wins a tie; ``*``
and ``$`` wildcards matched in linear time, so a hostile robots.txt cannot stall the event
loop), and a cache that keeps each origin's verdict for at most 24 hours.

The fetching itself is the safe fetcher's (``lightbox.crawl.fetch``): a 4xx robots.txt means
"everything allowed", a 5xx or an unreachable server means "everything disallowed".
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

PRODUCT_TOKEN = "lightboxbot"
MAX_ROBOTS_BYTES = 500 * 1024  # RFC 9309 2.5: parse at least 500 KiB
CACHE_SECONDS = 24 * 3600  # RFC 9309 2.4: no longer than 24 hours


@dataclass
class RobotsRules:
    """The rules of one robots.txt for one user agent."""

    parser: object | None = None  # protego.Protego
    allow_all: bool = False
    disallow_all: bool = False
    crawl_delay: float | None = None
    reason: str = "parsed"
    product_token: str = PRODUCT_TOKEN

    @classmethod
    def allowing(cls, reason: str) -> "RobotsRules":
        return cls(allow_all=True, reason=reason)

    @classmethod
    def disallowing(cls, reason: str) -> "RobotsRules":
        return cls(disallow_all=True, reason=reason)

    def allowed(self, url: str) -> bool:
        if (urlsplit(url).path or "/") == "/robots.txt":
            return True
        if self.disallow_all:
            return False
        if self.allow_all or self.parser is None:
            return True
        return self.parser.can_fetch(url, self.product_token)


def parse(text: str, product_token: str = PRODUCT_TOKEN) -> RobotsRules:
    """The rules that apply to ``product_token`` (case-insensitive)."""
    from protego import Protego

    parser = Protego.parse(text)
    delay = parser.crawl_delay(product_token)
    return RobotsRules(parser=parser, crawl_delay=None if delay is None else max(0.0, float(delay)),
                       product_token=product_token)


def origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


class RobotsCache:
    """Verdicts per origin, each kept at most ``max_age`` seconds."""

    def __init__(self, max_age: float = CACHE_SECONDS):
        self.max_age = min(max_age, CACHE_SECONDS)
        self._entries: dict[str, tuple[float, RobotsRules]] = {}

    def get(self, key: str) -> RobotsRules | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, rules = entry
        if time.monotonic() - stored_at > self.max_age:
            del self._entries[key]
            return None
        return rules

    def put(self, key: str, rules: RobotsRules) -> None:
        self._entries[key] = (time.monotonic(), rules)

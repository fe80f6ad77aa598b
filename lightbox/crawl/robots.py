"""robots.txt per RFC 9309: parse, pick the group for our product token, match rules
(longest match wins, ``allow`` wins a tie, ``*`` and ``$`` wildcards), and a cache that
keeps each origin's verdict for at most 24 hours.

The fetching itself is the safe fetcher's (``lightbox.crawl.fetch``): a 4xx robots.txt means
"everything allowed", a 5xx or an unreachable server means "everything disallowed".
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

PRODUCT_TOKEN = "lightboxbot"
MAX_ROBOTS_BYTES = 500 * 1024  # RFC 9309 2.5: parse at least 500 KiB
CACHE_SECONDS = 24 * 3600  # RFC 9309 2.4: no longer than 24 hours


@dataclass(frozen=True)
class Rule:
    allow: bool
    pattern: str
    regex: re.Pattern


def _compile(pattern: str) -> re.Pattern:
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    parts = [re.escape(p) for p in body.split("*")]
    return re.compile(".*".join(parts) + (r"\Z" if anchored else ""), re.DOTALL)


def _normalise(path: str) -> str:
    # Compare decoded octets so that /%7Efoo and /~foo are one path (RFC 9309 2.2.2).
    return unquote(path)


@dataclass
class RobotsRules:
    """The rules of one robots.txt for one user agent."""

    rules: list[Rule] = field(default_factory=list)
    allow_all: bool = False
    disallow_all: bool = False
    crawl_delay: float | None = None
    reason: str = "parsed"

    @classmethod
    def allowing(cls, reason: str) -> "RobotsRules":
        return cls(allow_all=True, reason=reason)

    @classmethod
    def disallowing(cls, reason: str) -> "RobotsRules":
        return cls(disallow_all=True, reason=reason)

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        path = parts.path or "/"
        if path == "/robots.txt":
            return True
        if self.disallow_all:
            return False
        if self.allow_all or not self.rules:
            return True
        target = _normalise(path + ("?" + parts.query if parts.query else ""))
        best: Rule | None = None
        for rule in self.rules:
            if rule.regex.match(target):
                if (
                    best is None
                    or len(rule.pattern) > len(best.pattern)
                    or (len(rule.pattern) == len(best.pattern) and rule.allow and not best.allow)
                ):
                    best = rule
        return True if best is None else best.allow


def parse(text: str, product_token: str = PRODUCT_TOKEN) -> RobotsRules:
    """The rules that apply to ``product_token`` (case-insensitive): every group naming it,
    merged; otherwise every ``*`` group; otherwise no rules (all allowed)."""
    token = product_token.lower()
    groups: list[tuple[list[str], list[tuple[str, str]]]] = []
    agents: list[str] = []
    rules: list[tuple[str, str]] = []
    in_agents = False
    for raw_line in text.splitlines():
        line = raw_line.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = line.split(":", 1)
        key, value = key.strip().lower(), value.strip()
        if key in ("user-agent", "useragent", "user agent"):
            if not in_agents and (agents or rules):
                groups.append((agents, rules))
                agents, rules = [], []
            agents.append(value.lower())
            in_agents = True
        elif key in ("allow", "disallow", "crawl-delay"):
            in_agents = False
            if agents:
                rules.append((key, value))
        # sitemap and unknown keys are not group members (RFC 9309 2.2.4)
    if agents:
        groups.append((agents, rules))

    def pick(predicate) -> list[tuple[str, str]]:
        chosen: list[tuple[str, str]] = []
        for group_agents, group_rules in groups:
            if any(predicate(a) for a in group_agents):
                chosen.extend(group_rules)
        return chosen

    selected = pick(lambda a: a == token)
    if not selected and not any(token == a for g, _ in groups for a in g):
        selected = pick(lambda a: a == "*")
    result = RobotsRules()
    for key, value in selected:
        if key == "crawl-delay":
            try:
                result.crawl_delay = max(0.0, float(value))
            except ValueError:
                pass
            continue
        if not value:
            continue  # an empty disallow matches nothing
        pattern = _normalise(value if value.startswith(("/", "*")) else "/" + value)
        result.rules.append(Rule(key == "allow", pattern, _compile(pattern)))
    return result


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

"""Registrable domains (eTLD+1): the one definition the crawler (shards and site scope), the
sweep's actioner and the exclusivity audit (case keys) and settlement (matching a partner's
report line to a case) all use, so that a case opened by one is found by the others.

``www.blog.example.co.uk`` → ``example.co.uk``. Decisions, in order:

- **Offline.** tldextract's bundled Public Suffix List snapshot; never a network fetch
  (``suffix_list_urls=()``) nor a cache on disk (``cache_dir=None``): the answer depends
  only on the installed tldextract version.
- **Private suffixes count.** The PSL's private section (``github.io``, ``blogspot.com``,
  ``s3.amazonaws.com``…) is treated like a public suffix: ``alice.github.io`` and
  ``bob.github.io`` are two infringers run by two people, each with its own case and its
  own takedown, not one case against the hosting platform.
- **IP addresses** stay as they are (``[::1]`` → ``::1``).
- **No known suffix** (``.test``, ``.internal``, ``.local``): the last two labels, so that
  ``img.stockhub.test`` and ``stockhub.test`` share a key as they would under a real
  suffix; a single label (``localhost``) stays as it is.

Input may be a host, ``host:port`` or a URL; case, surrounding blanks and a trailing dot
do not matter.
"""
from __future__ import annotations

import functools
import ipaddress
from urllib.parse import urlsplit


@functools.lru_cache(maxsize=1)
def _extractor():
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def host_of(url_or_host: str | None) -> str:
    """The lower-case host of a URL, or of ``host[:port]`` given bare."""
    value = (url_or_host or "").strip().lower()
    if not value:
        return ""
    if "://" not in value:
        value = "//" + value
    try:
        host = urlsplit(value).hostname or ""
    except ValueError:  # an unbalanced IPv6 bracket and the like
        return ""
    return host.strip("[]").rstrip(".")


@functools.lru_cache(maxsize=100_000)
def registrable_domain(url_or_host: str | None) -> str:
    """The registrable domain of a host or URL (see the module docstring for the rules);
    ``""`` for an empty value."""
    host = host_of(url_or_host)
    if not host:
        return ""
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    parts = _extractor()(host)
    if parts.domain and parts.suffix:
        return f"{parts.domain}.{parts.suffix}"
    labels = host.split(".")
    return ".".join(labels[-2:])

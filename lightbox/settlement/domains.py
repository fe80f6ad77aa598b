"""Registrable domains (eTLD+1, e.g. ``shop.example.co.uk`` → ``example.co.uk``) for matching
report lines to cases, computed once per distinct domain with tldextract's bundled public
suffix list (offline) and kept in ``settlement.registrable_domains`` for set-based joins."""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _extractor():
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def normalise(domain: str | None) -> str:
    """The form both sides are keyed by: trimmed, lower case (what the SQL does too)."""
    return (domain or "").strip().lower()


def registrable_domain(domain: str | None) -> str:
    """eTLD+1 of a host name or URL; the bare host when there is no public suffix
    (localhost, an IP address)."""
    value = normalise(domain)
    if not value:
        return ""
    parts = _extractor()(value)
    registrable = parts.top_domain_under_public_suffix
    if registrable:
        return registrable
    host = value.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return host.rstrip(".")


def refresh_registrable_domains(cur) -> int:
    """Add every report or case domain not yet in settlement.registrable_domains."""
    cur.execute(
        """
        select distinct d.domain from (
            select lower(btrim(infringer_domain)) as domain from raw.settlement_reports
            union
            select lower(btrim(infringer_domain)) from infringement.cases
        ) as d
        where d.domain is not null and d.domain <> ''
          and not exists (select 1 from settlement.registrable_domains as r where r.domain = d.domain)
        """
    )
    rows = [(domain, registrable_domain(domain)) for (domain,) in cur.fetchall()]
    if rows:
        from psycopg2.extras import execute_values

        execute_values(
            cur,
            "insert into settlement.registrable_domains (domain, registrable) values %s on conflict do nothing",
            rows,
            page_size=5000,
        )
    return len(rows)

"""Registrable domains (eTLD+1, e.g. ``shop.example.co.uk`` → ``example.co.uk``) for matching
report lines to cases: computed once per distinct domain by the one definition
(:func:`lightbox.domains.registrable_domain`, the same the sweep and the audit key cases by)
and kept in ``settlement.registrable_domains`` for set-based joins."""
from __future__ import annotations

from lightbox.domains import registrable_domain


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

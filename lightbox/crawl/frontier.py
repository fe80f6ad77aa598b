"""The crawl frontier in PostgreSQL (``infringement.crawl_frontier``).

One row per URL and sweep (``sweep_id`` = the data interval end of the DAG run, so a rerun of
the same run resumes: fetched rows stay fetched, pending rows are taken again). Rows come
from ``raw.crawl_seeds`` (photographer reports first, then by priority) and from links found
on pages, within the seed's ``max_depth`` and its site (the seed's registrable domain).

Sharding: each row has a ``shard_key`` (the registrable domain of its own host) and a
``shard`` = crc32(shard_key) mod n_shards. One domain lives in exactly one shard, so the
per-host politeness of one crawler process holds for the whole sweep.
"""
from __future__ import annotations

import zlib
from datetime import datetime
from urllib.parse import urlsplit

from lightbox.crawl.discover import normalise_url
from lightbox.domains import registrable_domain  # the one definition (crawler.py imports it from here)


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def shard_of(key: str, n_shards: int) -> int:
    return zlib.crc32(key.encode()) % max(1, n_shards)


def start_sweep(conn, sweep_id: str, as_of: datetime) -> None:
    with conn.cursor() as cur:
        cur.execute(
            """insert into infringement.sweeps (sweep_id, as_of, started_at) values (%s, %s, now())
               on conflict (sweep_id) do nothing""",
            (sweep_id, as_of),
        )


def n_shards(conn, sweep_id: str) -> int:
    with conn.cursor() as cur:
        cur.execute("select n_shards from infringement.sweeps where sweep_id = %s", (sweep_id,))
        row = cur.fetchone()
    return row[0] if row else 1


def seed_frontier(conn, sweep_id: str, default_max_depth: int = 1) -> dict:
    """Copy ``raw.crawl_seeds`` into the sweep's frontier (once per URL). A seed that is not
    an http(s) URL is recorded as failed with its reason."""
    with conn.cursor() as cur:
        cur.execute("select url, priority, max_depth, source, reported_by from raw.crawl_seeds")
        seeds = cur.fetchall()
    rows = []
    for raw_url, priority, max_depth, source, reported_by in seeds:
        url = normalise_url(raw_url or "")
        status, error = "pending", None
        if url is None:
            url, status, error = raw_url or "", "failed", "bad_url: not an absolute http(s) URL"
        host = host_of(url) or "-"
        key = registrable_domain(host)
        rows.append(
            (sweep_id, url, "page", host, key, key, url, 0,
             max(0, default_max_depth if max_depth is None else int(max_depth)),
             int(priority or 0), source or "seed", reported_by, status, error)
        )
    inserted = _insert(conn, rows)
    return {"seeds": len(seeds), "inserted": inserted}


def _insert(conn, rows) -> int:
    if not rows:
        return 0
    from psycopg2.extras import execute_values

    with conn.cursor() as cur:
        result = execute_values(
            cur,
            """insert into infringement.crawl_frontier
               (sweep_id, url, kind, host, site, shard_key, seed_url, depth, max_depth, priority,
                source, reported_by, status, last_error)
               values %s on conflict (sweep_id, url) do nothing returning url""",
            rows,
            fetch=True,
        )
    return len(result)


def plan_shards(conn, sweep_id: str, max_shards: int = 8) -> list[int]:
    """Fix the sweep's number of shards (the number of distinct domains with work, capped)
    and assign every row its shard. Returns the shard numbers that have pending work."""
    with conn.cursor() as cur:
        cur.execute(
            "select count(distinct shard_key) from infringement.crawl_frontier where sweep_id = %s and status = 'pending'",
            (sweep_id,),
        )
        domains = cur.fetchone()[0]
        cur.execute("select n_shards, (select count(*) from infringement.crawl_frontier where sweep_id = %s and status <> 'pending') from infringement.sweeps where sweep_id = %s", (sweep_id, sweep_id))
        current, done = cur.fetchone()
        # a sweep that already crawled keeps its shard count (a resumed run must agree with
        # where rows already are); a fresh one sizes it to its domains
        n = current if done else max(1, min(max_shards, domains))
        cur.execute("update infringement.sweeps set n_shards = %s where sweep_id = %s", (n, sweep_id))
        cur.execute("select distinct shard_key from infringement.crawl_frontier where sweep_id = %s", (sweep_id,))
        keys = [k for (k,) in cur.fetchall()]
        for key in keys:
            cur.execute(
                "update infringement.crawl_frontier set shard = %s where sweep_id = %s and shard_key = %s and shard <> %s",
                (shard_of(key, n), sweep_id, key, shard_of(key, n)),
            )
    return pending_shards(conn, sweep_id)


def pending_shards(conn, sweep_id: str) -> list[int]:
    with conn.cursor() as cur:
        cur.execute(
            "select distinct shard from infringement.crawl_frontier where sweep_id = %s and status = 'pending' order by 1",
            (sweep_id,),
        )
        return [s for (s,) in cur.fetchall()]


FRONTIER_COLUMNS = (
    "url", "kind", "host", "site", "shard_key", "seed_url", "depth", "max_depth", "priority",
    "source", "reported_by", "status", "attempts", "not_before",
)


def shard_rows(conn, sweep_id: str, shard: int) -> list[dict]:
    """Every row of one shard (pending ones first, photographer reports first among them)."""
    with conn.cursor() as cur:
        cur.execute(
            f"""select {', '.join(FRONTIER_COLUMNS)} from infringement.crawl_frontier
                where sweep_id = %s and shard = %s
                order by status <> 'pending', source <> 'photographer_report', priority desc, depth, url""",
            (sweep_id, shard),
        )
        return [dict(zip(FRONTIER_COLUMNS, row)) for row in cur.fetchall()]


def retries(conn, sweep_id: str) -> dict[str, int]:
    """How much retrying the sweep did: URLs tried more than once, the extra attempts, and how
    many of those URLs were fetched in the end (the rest failed or still wait)."""
    with conn.cursor() as cur:
        cur.execute(
            """select count(*) filter (where attempts > 1), coalesce(sum(greatest(attempts - 1, 0)), 0),
                      count(*) filter (where attempts > 1 and status = 'fetched'),
                      count(*) filter (where status = 'pending' and attempts > 0)
               from infringement.crawl_frontier where sweep_id = %s""",
            (sweep_id,),
        )
        urls, extra, recovered, waiting = cur.fetchone()
    return {"urls_retried": urls, "retries": int(extra), "recovered": recovered, "still_waiting": waiting}


def failures_by_reason(conn, sweep_id: str) -> dict[str, int]:
    with conn.cursor() as cur:
        cur.execute(
            """select split_part(last_error, ':', 1) as reason, count(*) from infringement.crawl_frontier
               where sweep_id = %s and status in ('failed', 'skipped') group by 1 order by 2 desc, 1""",
            (sweep_id,),
        )
        return {reason: count for reason, count in cur.fetchall()}

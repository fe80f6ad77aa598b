"""The steps of one infringement sweep, each a function of the sweep's ``as_of`` (the DAG
run's data interval end) so that Airflow tasks, the CLI and tests call the same code. Each
opens its own warehouse connection and is safe to rerun: the sweep id is ``as_of`` itself, and
a rerun resumes the frontier where the last run stopped."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from lightbox import db

log = logging.getLogger(__name__)


def parse_as_of(as_of) -> datetime:
    if isinstance(as_of, datetime):
        value = as_of
    else:
        value = datetime.fromisoformat(str(as_of).replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def sweep_id_for(as_of) -> str:
    return parse_as_of(as_of).isoformat()


def sync_catalog() -> dict:
    """Hash new exclusive photos into the matching catalogue (the engine's own step)."""
    from lightbox.matching.catalog import sync_catalog as sync

    conn = db.connect()
    try:
        result = sync(conn)
        conn.commit()
        return result if isinstance(result, dict) else {"result": result}
    finally:
        conn.close()


def seed(as_of, default_max_depth: int = 1) -> dict:
    from lightbox.crawl.frontier import seed_frontier, start_sweep

    with db.transaction() as conn:
        start_sweep(conn, sweep_id_for(as_of), parse_as_of(as_of))
        return seed_frontier(conn, sweep_id_for(as_of), default_max_depth)


def plan(as_of, max_shards: int = 8) -> list[int]:
    from lightbox.crawl.frontier import plan_shards

    with db.transaction() as conn:
        return plan_shards(conn, sweep_id_for(as_of), max_shards)


def pending(as_of) -> list[int]:
    from lightbox.crawl.frontier import pending_shards

    with db.transaction() as conn:
        return pending_shards(conn, sweep_id_for(as_of))


def crawl(as_of, shard: int, matcher=None, config=None, limits=None, progress=None) -> dict:
    """Crawl one shard (``progress``: called with a line every few seconds; logged by default)."""
    from lightbox.crawl.crawler import crawl_shard
    from lightbox.infringement.matcher import CatalogMatcher

    conn = db.connect()
    try:
        return crawl_shard(conn, sweep_id_for(as_of), int(shard), matcher=matcher or CatalogMatcher(conn),
                           config=config, limits=limits, progress=progress)
    finally:
        conn.close()


def match(as_of, verify: bool = True) -> dict:
    from lightbox.infringement.actioner import match_images

    with db.transaction() as conn:
        return match_images(conn, sweep_id_for(as_of), parse_as_of(as_of), verify=verify)


def cases(as_of) -> dict:
    from lightbox.infringement.actioner import open_cases

    with db.transaction() as conn:
        return open_cases(conn, sweep_id_for(as_of), parse_as_of(as_of))


def report(as_of) -> dict:
    from lightbox.infringement.report import write_report

    with db.transaction() as conn:
        return write_report(conn, sweep_id_for(as_of), parse_as_of(as_of))


def run_sweep(as_of, *, matcher=None, config=None, limits=None, max_shards: int = 4, catalog: bool = True,
              verify: bool = True) -> dict:
    """The whole sweep in one process (what the DAG does across tasks and workers)."""
    if catalog:
        sync_catalog()
    seed(as_of)
    for shard in plan(as_of, max_shards):
        crawl(as_of, shard, matcher, config, limits)
    for shard in pending(as_of):  # images on other domains, deferred by the first wave
        crawl(as_of, shard, matcher, config, limits)
    match(as_of, verify=verify)
    cases(as_of)
    return report(as_of)

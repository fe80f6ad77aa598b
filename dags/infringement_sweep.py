"""
# infringement_sweep

## Purpose
Searches the web for copies of photographers' exclusive photos and pursues commercial ones.
Crawls the seeds and photographer reports of `raw.crawl_seeds` (reports first) with the safe
crawler (public addresses only, robots.txt, time/byte/pixel limits), hashes every image found
and matches it against the catalogue, leaves licensed uses and the marketplace's own domains
alone, holds photos under exclusivity review, and opens one case per photo and infringer
domain with evidence (page, image, headers, fetch time, IP, side-by-side picture) for the
enforcement partners.

## Inputs
`raw.crawl_seeds`, `raw.photos`, `raw.licenses`, `exclusivity.holds`, `matching.photo_hashes`
(kept current by `sync_catalog`); the web. Settings: `LIGHTBOX_CRAWL_ALLOW_NETWORKS`,
`LIGHTBOX_CRAWL_RESOLVE`, `LIGHTBOX_OWN_DOMAINS`. Run conf: `max_shards` (default 8).

## Outputs
`infringement.crawl_frontier` (every URL with status, attempts, last error), `infringement.matches`,
`infringement.cases`, `infringement.partner_outbox`, `infringement.sweeps` (the report; also
`reports/infringement_sweep/<sweep>.txt` in the object store), evidence under
`<object store>/evidence`. `validate_matches` runs the matches quality suites (lightbox.quality)
and emits the Asset `lightbox.infringement.cases` only when no critical suite failed (a case
without evidence); warnings are recorded in `quality.results`.

## Idempotency key
The sweep id = the run's data interval end (`as_of`). The frontier is keyed by (sweep, url):
a rerun or retry fetches only what is still pending. Matches, cases and outbox messages are
upserts keyed by (photo, page, image), (photo, infringer domain) and (case, event, status,
as_of); evidence is content-addressed. `first_seen_at`/`opened_at` come from `as_of`.

## Triage notes
- Fan-out: `crawl_shard` is mapped over host shards (one registrable domain lives in one shard,
  so per-host politeness holds across workers); `crawl_deferred_images` fetches images that
  pages linked on other domains (CDNs). More Celery workers crawl more shards at once.
- Why did a URL fail? `select url, status, last_error from infringement.crawl_frontier where
  sweep_id = '<as_of>' and status <> 'fetched'`; the report lists failures by reason.
- A shard task that died mid-crawl: clear it; the rerun takes the pending rows only.
- No matches at all: check `sync_catalog`'s counts (eligible/hashed) and `matching.hash_failures`.
"""
from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from lightbox import assets, run_context, task_defaults


@dag(
    dag_id="infringement_sweep",
    doc_md=__doc__,
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args=task_defaults.DEFAULT_ARGS,
    tags=["lightbox", "infringement", "crawler"],
    max_active_runs=1,
)
def infringement_sweep():
    @task
    def sync_catalog() -> dict:
        from lightbox.infringement import sweep

        return sweep.sync_catalog()

    @task
    def seed_frontier(**context) -> dict:
        from lightbox.infringement import sweep

        return sweep.seed(run_context.as_of(context))

    @task
    def plan_shards(**context) -> list[int]:
        from lightbox.infringement import sweep

        conf = context["dag_run"].conf or {}
        return sweep.plan(run_context.as_of(context), int(conf.get("max_shards", 8)))

    @task(max_active_tis_per_dagrun=8)
    def crawl_shard(shard: int, **context) -> dict:
        from lightbox.infringement import sweep

        return sweep.crawl(run_context.as_of(context), shard)

    @task(trigger_rule="none_failed")
    def plan_deferred(**context) -> list[int]:
        from lightbox.infringement import sweep

        return sweep.pending(run_context.as_of(context))

    @task(trigger_rule="none_failed")
    def match_images(**context) -> dict:
        from lightbox.infringement import sweep

        return sweep.match(run_context.as_of(context))

    @task
    def open_cases(**context) -> dict:
        from lightbox.infringement import sweep

        return sweep.cases(run_context.as_of(context))

    @task(outlets=[Asset(assets.INFRINGEMENT_CASES)])
    def validate_matches(**context) -> int:
        from airflow.sdk.exceptions import AirflowFailException

        from lightbox.quality.gates import run_gate

        outcome = run_gate("matches", context["run_id"], run_context.as_of(context), error=AirflowFailException)
        return sum(not suite["success"] for suite in outcome.values())

    @task
    def write_report(**context) -> str:
        from lightbox.infringement import sweep

        return sweep.report(run_context.as_of(context))["report_uri"]

    catalog = sync_catalog()
    shards = plan_shards()
    [seed_frontier(), catalog] >> shards  # the crawl matches against this run's catalogue
    crawled = crawl_shard.expand(shard=shards)
    deferred = plan_deferred()
    crawled >> deferred
    images = crawl_shard.override(task_id="crawl_deferred_images", trigger_rule="none_failed").expand(shard=deferred)
    matched = match_images()
    [catalog, images] >> matched
    cases = open_cases()
    matched >> cases >> [validate_matches(), write_report()]


infringement_sweep()

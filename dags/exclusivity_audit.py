"""
# exclusivity_audit

**Purpose.** Catch photos marked exclusive that are also offered on other stock sites,
before anyone is wrongly accused of infringing them. Every listing of the stock sites
(landing source and listing feeds) is fetched with the crawler's safety rules, hashed and
matched against the exclusive photos. The photographer's own listing (contributor = their
username, now or before; or an unknown contributor) is an exclusivity violation and puts
the photo on hold; someone else's listing is an infringement and opens a case.

**Inputs.** `raw.stock_listings`, the feeds of `LIGHTBOX_STOCK_FEEDS` (`site=url,…`),
`raw.photos` (+ history), `raw.users` (+ history), `raw.licenses`, `matching.photo_hashes`.

**Outputs.** `exclusivity.violations`, `exclusivity.listing_checks`,
`exclusivity.feed_errors`, `exclusivity.hold_events`, `exclusivity.notification_outbox`,
`exclusivity.audit_reports` (+ a Markdown report in the object store), and for holds and
stolen listings `infringement.cases` / `infringement.matches`. Evidence (image, listing
page, manifest) by SHA-256 under `<object store>/evidence`. Emits the Asset
`lightbox.exclusivity.violations`.

**Idempotency key.** The data interval end (`as_of`): the audit's listings and feed
errors are a partition overwritten by a rerun; violations are unique per photo × site ×
listing URL, cases per photo × domain, matches per photo × page × image; a hold is placed
once per hold period (latest `hold_events` row). A rerun changes nothing.

**Triage notes.** Feed problems: `select * from exclusivity.feed_errors order by error_id desc`.
Listings not checked and why: `select site, status, reason, count(*) from
exclusivity.listing_checks where status in ('fetch_error','bad_image') group by 1,2,3`.
Holds: `select * from exclusivity.holds`; decide with `lightbox violations confirm|dismiss`.
"""
import pendulum
from airflow.sdk import Asset, dag, task

from lightbox import assets, run_context, task_defaults


@dag(
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults.DEFAULT_ARGS,
    tags=["lightbox", "exclusivity", "matching"],
    doc_md=__doc__,
)
def exclusivity_audit():
    @task
    def sync_catalog() -> dict:
        from lightbox import db
        from lightbox.matching.catalog import sync_catalog as sync

        conn = db.connect()
        try:
            result = sync(conn)
            conn.commit()
        finally:
            conn.close()
        return result if isinstance(result, dict) else {"result": str(result)}

    @task
    def fetch_listings(**context) -> dict:
        from lightbox import db
        from lightbox.exclusivity.audit import fetch_listings as fetch

        conn = db.connect()
        try:
            return fetch(conn, run_context.as_of(context))
        finally:
            conn.close()

    @task
    def match_listings(**context) -> dict:
        from lightbox import db
        from lightbox.exclusivity.audit import match_listings as match

        conn = db.connect()
        try:
            return match(conn, run_context.as_of(context))
        finally:
            conn.close()

    @task
    def apply_holds(**context) -> dict:
        from lightbox import db
        from lightbox.exclusivity.holds import apply_holds as apply

        conn = db.connect()
        try:
            return apply(conn, run_context.as_of(context))
        finally:
            conn.close()

    @task(outlets=[Asset(assets.EXCLUSIVITY_VIOLATIONS)])
    def write_report(**context) -> str:
        from lightbox import db
        from lightbox.exclusivity.report import write_report as write

        conn = db.connect()
        try:
            return write(conn, run_context.as_of(context), since=context.get("data_interval_start"))
        finally:
            conn.close()

    synced = sync_catalog()
    listings = fetch_listings()
    matched = match_listings()
    [synced, listings] >> matched
    matched >> apply_holds() >> write_report()


exclusivity_audit()

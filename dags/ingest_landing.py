"""
# ingest_landing

**Purpose.** Load every new file of the landing folder into `raw.*`, exactly once, validating
every row against the landing contract (shared/DESIGN.md). Bad rows go to `raw.quarantine`
with file, line and a reason a person understands; the file's other rows load.

**Inputs.** `LIGHTBOX_LANDING/<source>/*.csv` (users, photos, inspections, sales, licenses,
region_consents, stock_listings, settlement_reports, fx_rates, crawl_seeds).

**Schedule.** Event-driven: an `AssetWatcher` on the Asset `lightbox.landing`
(`lightbox.triggers.LandingFilesTrigger`, in the triggerer) lists the landing folder every
second and fires once new files have settled, so a submission is ingested seconds after it
lands (docs/aiscan.md). The cron every 15 minutes stays as a safety net (triggerer down,
files missed). Only the sources with files not yet in `raw.landing_files` are loaded.

**Outputs.** `raw.<source>_history` (every version of every key), `raw.<source>` (current
row per key: later `updated_at`, else later file, wins), `raw.quarantine`,
`raw.landing_files` (one row per file with its counts). `validate_raw` runs the raw quality
suites (lightbox.quality) on new data: a critical failure stops the run before the Asset
`lightbox.raw` is emitted (it is emitted when anything new was loaded); warnings are recorded
in `quality.results` and shown. An event-driven run checks only the critical suites of the
sources it loaded (lightbox.scan_flow); the scheduled and manual runs and `quality_report`
run them all.

**Idempotency key.** The SHA-256 of each file's bytes: a file already in
`raw.landing_files` is skipped, whatever its name. Each file loads in one transaction.

**Triage notes.** A failed task has loaded nothing of the file it failed on: fix the cause
and rerun. Per file, rows in the file = `rows_loaded + rows_quarantined`
(`select * from raw.landing_files order by file_id desc`). Quarantine reasons:
`select source, file, line, reason from raw.quarantine order by quarantine_id desc`.
"""
import pendulum
from airflow.sdk import Asset, AssetOrTimeSchedule, AssetWatcher, CronTriggerTimetable, dag, task

from lightbox import assets, run_context, task_defaults
from lightbox.config import settings
from lightbox.triggers import LandingFilesTrigger

LANDING = Asset(
    assets.LANDING,
    watchers=[AssetWatcher(name="landing_files", trigger=LandingFilesTrigger(landing=str(settings().landing)))],
)


@dag(
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("*/15 * * * *", timezone="UTC"),  # the safety net
        assets=[LANDING],
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=2,  # overlapping runs are safe: each file loads once, under its own lock
    default_args=task_defaults.DEFAULT_ARGS,
    tags=["lightbox", "ingest", "raw"],
    doc_md=__doc__,
)
def ingest_landing():
    @task
    def list_sources() -> list[str]:
        from lightbox import db
        from lightbox.landing.watch import unloaded_sources

        conn = db.connect()
        try:
            return unloaded_sources(conn, settings().landing)  # none: the run skips to the end
        finally:
            conn.close()

    @task
    def load_source(source: str) -> dict:
        from lightbox.landing.ingest import ingest_folder

        return ingest_folder(settings().landing, sources=[source]).summary()

    # none_failed: with no new file `load_source` maps to nothing (skipped), and the run still
    # says so ("0 new files") instead of skipping silently.
    @task(trigger_rule="none_failed")
    def validate_raw(summaries: list[dict]) -> int:
        from airflow.sdk import get_current_context
        from airflow.sdk.exceptions import AirflowFailException

        from lightbox.quality.gates import run_gate
        from lightbox.scan_flow import is_event_run, raw_gate_suites

        summaries = list(summaries or [])
        loaded = sorted({source for s in summaries for source in s["by_source"]})
        if not loaded:
            return 0  # nothing new: nothing to judge
        context = get_current_context()
        suites = raw_gate_suites(loaded, is_event_run(context))
        if suites == []:
            print(f"lightbox-summary: no critical raw suite judges {', '.join(loaded)}: gate passed")
            return 0
        outcome = run_gate("raw", context["run_id"], run_context.as_of(context), error=AirflowFailException, suite_names=suites)
        return sum(not suite["success"] for suite in outcome.values())

    @task(outlets=[Asset(assets.RAW)], trigger_rule="none_failed")
    def publish_raw(summaries: list[dict]) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        summaries = list(summaries or [])
        total = {
            "files_new": sum(s["files_new"] for s in summaries),
            "rows_loaded": sum(s["rows_loaded"] for s in summaries),
            "rows_quarantined": sum(s["rows_quarantined"] for s in summaries),
        }
        print(
            f"lightbox-summary: {total['files_new']} new files, {total['rows_loaded']} rows loaded, "
            f"{total['rows_quarantined']} quarantined"
        )
        if total["files_new"] == 0:
            raise AirflowSkipException("no new landing files: nothing to publish")
        return total

    loaded = load_source.expand(source=list_sources())
    validate_raw(loaded) >> publish_raw(loaded)


ingest_landing()

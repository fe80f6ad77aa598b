"""
# licensing_score_submissions

**Purpose.** The AI scan: score, with the champion model, every photo submitted to licensing
by hand or uploaded while its owner was opted in to auto licensing (and still is), not
removed, not deleted, not yet scored and not yet decided by an inspector; route each into
`not_suitable`, `changes_required` (missing model/property release), `under_review` (the
inspectors' queue, priority = `p_sale`) or `removed` (removed during the scan: never queued).
Runs every 5 minutes and right after a new model version is registered.

**Inputs.** `raw.photos`, `raw.users_history` (opt-in at upload and at scan time),
`raw.inspections` + `licensing.decisions`, `raw.sales`, the champion in
`licensing.model_versions` and its artifact; image bytes through `image_path`.

**Outputs.** `licensing.scores`, `licensing.review_queue`, `licensing.scan_failures`
(photos that could not be scored, with the reason), `licensing.pixel_features` (cache).
Emits `lightbox.licensing.scores`.

**Idempotency key.** Scores are keyed (photo_id, model_version) and written once; queue rows
by photo_id, and only a pending row's priority/model_version ever changes (a new champion
re-prioritises pending items); claimed or decided items are never touched. The scan time
is the data interval end (or `run_after` for model-triggered runs), never `now()`.

**Triage notes.** A run scans at most 20,000 photos, fresh submissions first (photos an
inspector already decided come last); a backlog drains over the following runs. No champion yet: the run scores nothing and says so. A champion whose
artifact does not load fails the run loudly (nothing is scored with a wrong model):
`lightbox models list`, then `lightbox models rollback`. Photos that keep failing:
`select * from licensing.scan_failures where resolved_at is null`. Why a photo was routed
as it was: `select decision, reasons from licensing.scores where photo_id = '…'`.
"""
import pendulum
from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from lightbox import assets, run_context

# photos per run (~3 CPU-minutes at the benchmarked rate): a backlog drains over several
# runs (max_active_runs=1) while fresh submissions, scanned first, never wait behind it
SCAN_LIMIT = 20_000


@dag(
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("*/5 * * * *", timezone="UTC"),
        assets=[Asset(assets.LICENSING_MODEL)],
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=run_context.DEFAULT_ARGS,
    tags=["lightbox", "licensing", "ml"],
    doc_md=__doc__,
)
def licensing_score_submissions():
    @task
    def reprioritize_queue() -> int:
        from airflow.sdk import get_current_context

        from lightbox import db
        from ml.score import reprioritize_pending

        context = get_current_context()
        scan_at = run_context.as_of(context)
        conn = db.connect()
        try:
            n = reprioritize_pending(conn, scan_at)
        finally:
            conn.close()
        print(f"{n} pending queue items re-prioritised by the champion")
        return n

    @task
    def score_submissions() -> dict:
        from airflow.sdk import get_current_context

        from lightbox import db
        from ml.score import score_submissions as scan

        context = get_current_context()
        scan_at = run_context.as_of(context)
        conn = db.connect()
        try:
            summary = scan(conn, scan_at, limit=SCAN_LIMIT)
        finally:
            conn.close()
        print(f"AI scan at {scan_at}: {summary.as_dict()}")
        return summary.as_dict()

    @task(outlets=[Asset(assets.LICENSING_SCORES)])
    def validate_scores() -> int:
        from airflow.sdk import get_current_context
        from airflow.sdk.exceptions import AirflowFailException

        from lightbox.quality.gates import run_gate

        context = get_current_context()
        scan_at = run_context.as_of(context)
        outcome = run_gate("scores", context["run_id"], scan_at, error=AirflowFailException)
        return sum(not suite["success"] for suite in outcome.values())

    reprioritize_queue() >> score_submissions() >> validate_scores()


licensing_score_submissions()

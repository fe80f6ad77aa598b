"""
# licensing_score_submissions

**Purpose.** The AI scan: score, with the champion model, every photo submitted to licensing
by hand or uploaded while its owner was opted in to auto licensing (and still is), not
removed, not deleted, not yet scored and not yet decided by an inspector; route each into
`not_suitable`, `changes_required` (missing model/property release), `under_review` (the
inspectors' queue, priority = `p_sale`) or `removed` (removed during the scan: never queued).
Runs when `ingest_landing` reports new raw data (the Asset `lightbox.raw`: new photos or
submissions), right after a new model version is registered, and every 30 minutes as a
safety net. A submission reaches the inspectors' queue in seconds (docs/aiscan.md).

**Inputs.** `raw.photos`, `raw.users_history` (opt-in at upload and at scan time),
`raw.inspections` + `licensing.decisions`, `raw.sales`, the champion in
`licensing.model_versions` and its artifact; image bytes through `image_path`.

**Outputs.** `licensing.scores`, `licensing.review_queue`, `licensing.scan_failures`
(photos that could not be scored, with the reason), `licensing.pixel_features` (cache).
`validate_scores` (the critical scores gate) emits `lightbox.licensing.scores` (which starts
`marts_build`) after the scores are written; an event-driven run runs it at most once every
5 minutes, a skipped gate leaving its scores to the next one (lightbox.scan_flow).

**Idempotency key.** Scores are keyed (photo_id, model_version) and written once; queue rows
by photo_id, and only a pending row's priority/model_version ever changes (a new champion
re-prioritises pending items); claimed or decided items are never touched. The scan time
is the data interval end (or `run_after` for asset-triggered runs), never `now()`.

**Triage notes.** A run scans at most 20,000 photos, fresh submissions first (photos an
inspector already decided come last); a backlog drains over the following runs. No champion yet: the run scores nothing and says so. A champion whose
artifact does not load fails the run loudly (nothing is scored with a wrong model):
`lightbox models list`, then `lightbox models rollback`. Photos that keep failing:
`select * from licensing.scan_failures where resolved_at is null`. Why a photo was routed
as it was: `select decision, reasons from licensing.scores where photo_id = '…'`.
"""
import pendulum
from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from lightbox import assets, run_context, task_defaults

# photos per run (~3 CPU-minutes at the benchmarked rate): a backlog drains over several
# runs (max_active_runs=1) while fresh submissions, scanned first, never wait behind it
SCAN_LIMIT = 20_000


@dag(
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("*/30 * * * *", timezone="UTC"),  # the safety net
        assets=Asset(assets.RAW) | Asset(assets.LICENSING_MODEL),
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=2,  # overlapping runs are safe: a score is written once per (photo, model)
    default_args=task_defaults.DEFAULT_ARGS,
    tags=["lightbox", "licensing", "ml"],
    doc_md=__doc__,
)
def licensing_score_submissions():
    @task
    def score_submissions() -> dict:
        from airflow.sdk import get_current_context

        from lightbox import db
        from ml.registry import load_champion
        from ml.score import reprioritize_pending
        from ml.score import score_submissions as scan

        context = get_current_context()
        scan_at = run_context.as_of(context)
        conn = db.connect()
        try:
            model = load_champion(conn)  # loaded once for both steps (it is the costly part)
            conn.commit()
            reprioritized = reprioritize_pending(conn, scan_at, model=model) if model else 0
            summary = scan(conn, scan_at, model=model, limit=SCAN_LIMIT)
        finally:
            conn.close()
        summary.reprioritized = reprioritized
        print(f"AI scan at {scan_at}: {summary.as_dict()}")
        return summary.as_dict()

    @task(outlets=[Asset(assets.LICENSING_SCORES)])
    def validate_scores() -> int:
        from airflow.sdk import get_current_context
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from lightbox import db
        from lightbox.quality.gates import run_gate
        from lightbox.scan_flow import SCORES_GATE_INTERVAL, is_event_run, scores_gate_due

        context = get_current_context()
        conn = db.connect()
        try:
            due = scores_gate_due(conn, is_event_run(context))
        finally:
            conn.close()
        if not due:  # no Asset event either: the next gate judges these scores too
            raise AirflowSkipException(f"scores gate passed less than {SCORES_GATE_INTERVAL} ago")
        scan_at = run_context.as_of(context)
        outcome = run_gate("scores", context["run_id"], scan_at, error=AirflowFailException)
        return sum(not suite["success"] for suite in outcome.values())

    score_submissions() >> validate_scores()


licensing_score_submissions()

"""
# licensing_train_model

**Purpose.** Train the AI scan's models: `p_suitable` (inspectors accept rather than reject)
and `p_sale` (an accepted photo sells within 90 days), LightGBM on metadata + pixel
features, time split (train on older photos, evaluate on the newest period), early stopping,
isotonic calibration. In the same run: a metadata-only logistic regression, LightGBM without
pixel features, and the current champion, all evaluated on the same newest-period photos.
The new version becomes champion only if its ROC-AUC is at least the champion's there.

**Inputs.** `raw.photos`, `raw.users`, `raw.inspections` + `licensing.decisions` (labels),
`raw.sales`; image bytes through `image_path` (pixel features cached in
`licensing.pixel_features`).

**Outputs.** `licensing.model_versions` (metrics json, artifact_uri, report_uri),
`licensing.model_promotions`; artifacts under `<object store>/models/<version>/`
(`model.json`, `metrics.json`, `report.html`, `roc.png`, `calibration.png`,
`importance.png`). Emits `lightbox.licensing.model_versions` when a version is registered.

**Idempotency key.** The data interval end (`as_of`) and a hash of the labelled photos: the
version id is `<as_of>-<hash>`; a rerun with the same data finds the version registered
and trains nothing; promotion of the champion is a no-op.

**Triage notes.** Too few labels (under 40, or one kind of decision only) skips the run
with the reason. A model file that fails to load fails `promote_model` loudly and the
previous champion keeps serving: look at `lightbox models list`, the report
(`report_uri`), then `lightbox models promote VERSION` or `lightbox models rollback`.
"""
import pendulum
from airflow.sdk import Asset, dag, task

from lightbox import assets, run_context, task_defaults


@dag(
    schedule="0 3 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults.DEFAULT_ARGS,
    tags=["lightbox", "licensing", "ml"],
    doc_md=__doc__,
)
def licensing_train_model():
    @task
    def train_model() -> str:
        from airflow.sdk import get_current_context
        from airflow.sdk.exceptions import AirflowSkipException

        from lightbox import db
        from ml.train import InsufficientData, train

        context = get_current_context()
        as_of = run_context.as_of(context)
        conn = db.connect()
        try:
            result = train(conn, as_of)
        except InsufficientData as exc:
            raise AirflowSkipException(str(exc)) from exc
        finally:
            conn.close()
        print(f"version {result.version} (new: {result.created}); p_suitable {result.metrics['p_suitable']}; report {result.report_uri}")
        return result.version

    @task(outlets=[Asset(assets.LICENSING_MODEL)])
    def promote_model(version: str) -> dict:
        from lightbox import db
        from ml.train import promote_if_better

        conn = db.connect()
        try:
            outcome = promote_if_better(conn, version)
        finally:
            conn.close()
        print(outcome)
        return outcome

    promote_model(train_model())


licensing_train_model()

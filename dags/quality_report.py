"""
# quality_report

**Purpose.** Run every Great Expectations suite of Lightbox (raw sources, the AI scan's
scores, the sweep's matches and cases, the settlement ledger and credits, the regional
mirrors' consent invariant) and build the Data Docs site that auditors read. The report
records and shows; it never blocks (the `validate_<stage>` gates inside the pipelines do).

**Inputs.** `raw.*`, `licensing.scores`, `licensing.model_versions`, `infringement.matches`,
`infringement.cases`, `settlement.ledger`, `settlement.transactions`, `settlement.credits`,
`replication.inventory`, and a listing of every region's object store.

**Outputs.** One `quality.results` row per suite (and `quality.expectation_results` per
expectation), the Data Docs site in `$LIGHTBOX_HOME/docs/data_docs/index.html` (served by
`lightbox up` on http://localhost:8091/data_docs/index.html, linked from the Airflow UI menu
"Data Docs"). Emits the Asset `lightbox.quality.results`.

**Idempotency key.** The DAG run id: a rerun replaces its own `quality.results` rows; other
runs add rows (the history auditors read).

**Triage notes.** A failed suite is not a failed task: read the failures with
`select run_at, suite, severity, summary from quality.results where not success order by run_at desc`
or open the suite's `docs_uri`. A failed task means a suite could not run at all (an
unreachable region store, a missing table): the log names the suite.
"""
import pendulum
from airflow.sdk import Asset, dag, task

from lightbox import assets, run_context, task_defaults


@dag(
    schedule=[Asset(assets.MARTS)],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults.DEFAULT_ARGS,
    tags=["lightbox", "quality"],
    doc_md=__doc__,
)
def quality_report():
    @task(outlets=[Asset(assets.QUALITY_RESULTS)])
    def run_suites(**context) -> dict:
        from lightbox.quality.report import run_report

        as_of = run_context.as_of(context)
        return run_report(context["run_id"], as_of)

    run_suites()


quality_report()

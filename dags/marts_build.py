"""
# marts_build

**Purpose.** Build the reporting marts with dbt (through astronomer-cosmos): staging views on
the raw and operational tables, intermediate models, and the marts in schema `marts` for
finance, the licensing team, enforcement and auditors, each model followed by its tests.

**Inputs.** `raw.*`, `licensing.*`, `infringement.*`, `exclusivity.*`, `settlement.*`,
`replication.*` (dbt sources in `dbt/models/staging/_sources.yml`).

**Outputs.** Schemas `staging`, `intermediate`, `marts`. Emits the Asset `lightbox.marts`.
Incremental (only what arrived since the last run is read, rows replaced by key): the staging
of photos, sales, inspections and settlement lines, `int_photos_funnel_staged` and
`marts.sales_facts`; the rest are views, or tables of small aggregates rebuilt every run.

**Idempotency key.** The models' unique keys (delete+insert by key): a rerun replaces the same
rows. Trigger with `{"full_refresh": true}` to rebuild every incremental model from scratch
(after a change of its columns: dbt stops such a model until then).

**Why every model task runs `dbt build --select <model>`.** Cosmos renders one task per model
and cannot select "only what changed upstream": dbt's `state:modified` and
`source_status:fresher` selectors need the previous run's artifacts, which Cosmos's per-task
temporary project copies do not keep. It is cheap all the same: an incremental model's task
reads only the rows that arrived since its last build, and views cost nothing to recreate;
the tests run whole (uniqueness on a table is a whole-table check by nature) on indexed keys.
See docs/marts.md for the measured cost of a day.

**Triage notes.** Cosmos renders one task per model (`dbt build`: run, then test): a failing test
stops every model downstream of it. Rerun a model locally with
`lightbox db url` + `cd dbt && dbt build --select <model>` (profile in `dbt/profiles.yml`,
variables from `lightbox.marts.dbt_environment()`). The DAG renders from
`dbt/target/manifest.json` (`dbt parse`; `lightbox run` refreshes it).
"""
import sys
from pathlib import Path

import pendulum
from airflow.sdk import Asset, Param, dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, LoadMode, ProfileConfig, ProjectConfig, RenderConfig, TestBehavior
from cosmos.profiles import PostgresUserPasswordProfileMapping

from lightbox import assets, task_defaults
from lightbox.marts import DBT_DIR  # from configuration (LIGHTBOX_PROJECT_DIR), not this file's place

UPSTREAM = (
    Asset(assets.LICENSING_SCORES)
    | Asset(assets.INFRINGEMENT_CASES)
    | Asset(assets.SETTLEMENT_LEDGER)
    | Asset(assets.REPLICATION_INVENTORY)
    | Asset(assets.EXCLUSIVITY_VIOLATIONS)
)


@dag(
    schedule=UPSTREAM,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults.DEFAULT_ARGS,
    tags=["lightbox", "dbt", "marts"],
    doc_md=__doc__,
    params={"full_refresh": Param(False, type="boolean",
                                  description="Rebuild the incremental models from scratch (dbt --full-refresh).")},
)
def marts_build():
    @task
    def check_source_freshness() -> str:
        from lightbox import marts

        proc = marts.dbt("source", "freshness", check=False)
        print("lightbox-summary: source freshness " + ("ok" if proc.returncode == 0 else "has stale sources (see log)"))
        print(proc.stdout[-4000:])
        return "ok" if proc.returncode == 0 else "stale"

    transform = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(manifest_path=DBT_DIR / "target" / "manifest.json", project_name="lightbox",
                                     dbt_project_path=DBT_DIR),
        profile_config=ProfileConfig(
            profile_name="lightbox",
            target_name="default",
            profile_mapping=PostgresUserPasswordProfileMapping(conn_id=task_defaults.WAREHOUSE_CONN_ID, profile_args={"schema": "marts"}),
        ),
        # One `dbt build --select <model>` task per model: the model, then its tests; a
        # failing test fails the task and so stops every model downstream of it. Tests that
        # span models (relationships) get their own task after all their parents.
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.BUILD,
            should_detach_multiple_parents_tests=True,
            emit_datasets=False,
        ),
        execution_config=ExecutionConfig(dbt_executable_path=str(Path(sys.executable).with_name("dbt"))),
        operator_args={"install_deps": False, "full_refresh": "{{ params.full_refresh }}"},
        default_args=task_defaults.DEFAULT_ARGS,
    )

    @task(outlets=[Asset(assets.MARTS)])
    def publish_marts() -> int:
        from lightbox import db

        with db.transaction() as conn, conn.cursor() as cur:
            cur.execute("select count(*) from information_schema.tables where table_schema = 'marts'")
            count = cur.fetchone()[0]
        print(f"lightbox-summary: {count} marts built")
        return count

    check_source_freshness() >> transform >> publish_marts()


marts_build()

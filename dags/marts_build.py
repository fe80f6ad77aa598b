"""
# marts_build

**Purpose.** Build the reporting marts with dbt (through astronomer-cosmos): staging views on
the raw and operational tables, intermediate models, and the marts in schema `marts` for
finance, the licensing team, enforcement and auditors, each model followed by its tests.

**Inputs.** `raw.*`, `licensing.*`, `infringement.*`, `exclusivity.*`, `settlement.*`,
`replication.*` (dbt sources in `dbt/models/staging/_sources.yml`).

**Outputs.** Schemas `staging`, `intermediate`, `marts` (tables, one incremental:
`marts.sales_facts`). Emits the Asset `lightbox.marts`.

**Idempotency key.** The models themselves: every run rebuilds tables from their inputs
(`sales_facts` merges on `sale_id`).

**Triage notes.** Cosmos renders one task per model (`dbt build`: run, then test): a failing test
stops every model downstream of it. Rerun a model locally with
`lightbox db url` + `cd dbt && dbt build --select <model>` (profile in `dbt/profiles.yml`,
variables from `lightbox.marts.dbt_environment()`). The DAG renders from
`dbt/target/manifest.json` (`dbt parse`; `lightbox run` refreshes it).
"""
import sys
from pathlib import Path

import pendulum
from airflow.sdk import Asset, dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, LoadMode, ProfileConfig, ProjectConfig, RenderConfig, TestBehavior
from cosmos.profiles import PostgresUserPasswordProfileMapping

from lightbox import assets, run_context
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
    default_args=run_context.DEFAULT_ARGS,
    tags=["lightbox", "dbt", "marts"],
    doc_md=__doc__,
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
            profile_mapping=PostgresUserPasswordProfileMapping(conn_id="lightbox_warehouse", profile_args={"schema": "marts"}),
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
        operator_args={"install_deps": False},
        default_args=run_context.DEFAULT_ARGS,
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

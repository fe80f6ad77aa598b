"""What every Lightbox task gets from Airflow: the shared ``default_args``
(:data:`lightbox.run_context.DEFAULT_ARGS`) and the warehouse connection.

Airflow's ``lightbox_warehouse`` connection is the one source of the warehouse's credentials
for tasks, whatever the executor: before a task runs, its ``pre_execute`` reads the
connection through a ``PostgresHook`` and hands the URL to the domain code
(:func:`lightbox.db.use_warehouse`), which opens every warehouse connection of the task with
it. Domain code knows nothing of Airflow; the CLI, the inspector app and the benchmarks read
``LIGHTBOX_DATABASE_URL`` (or use the embedded server) instead. Cosmos' dbt tasks take the same
connection through their profile mapping (``dags/marts_build.py``).
"""
from __future__ import annotations

from lightbox import db, run_context

WAREHOUSE_CONN_ID = "lightbox_warehouse"


def warehouse_url_from_airflow() -> str:
    """The libpq URL of the ``lightbox_warehouse`` connection (secrets backend, environment
    variable or metadata database: wherever Airflow keeps it)."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    connection = PostgresHook(postgres_conn_id=WAREHOUSE_CONN_ID).connection
    return db.url_from_params(
        host=connection.host or "localhost",
        port=connection.port,
        user=connection.login or "postgres",
        password=connection.password or "",
        dbname=connection.schema or db.WAREHOUSE_DB,
    )


def use_warehouse_connection(context) -> None:
    """``pre_execute`` of every task: the task's warehouse is the Airflow connection."""
    db.use_warehouse(warehouse_url_from_airflow())


def release_warehouse_connection(context, result=None) -> None:
    """``post_execute``: back to the configuration (``dag.test()`` runs tasks in one process)."""
    db.use_warehouse(None)


# Every DAG's default_args (a DAG may override one key for one task, never the whole dict).
DEFAULT_ARGS = {
    **run_context.DEFAULT_ARGS,
    "pre_execute": use_warehouse_connection,
    "post_execute": release_warehouse_connection,
}

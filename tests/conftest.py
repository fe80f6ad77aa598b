"""Test set-up shared by every suite: a real PostgreSQL server (embedded from pgserver, or
the one ``LIGHTBOX_DATABASE_URL`` names), a fresh warehouse database per test cloned from a
template that has the whole schema, and Airflow's metadata database for ``dag.test()``.

The environment is set here, at import, before anything imports Airflow (as
mozilla/telemetry-airflow does): Airflow reads its configuration once.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

REPO = Path(__file__).resolve().parent.parent
_EXTERNAL_URL = os.environ.get("LIGHTBOX_DATABASE_URL")
# A short path: the embedded server's unix socket lives in it.
_HOME = Path(tempfile.mkdtemp(prefix="lbt-", dir="/tmp"))
os.environ["LIGHTBOX_HOME"] = str(_HOME)
os.environ["LIGHTBOX_LANDING"] = str(_HOME / "landing")
os.environ.setdefault("LIGHTBOX_CRAWL_ALLOW_NETWORKS", "127.0.0.0/8")

from lightbox import airflow_env, db, schema  # noqa: E402

TEMPLATE_DB = "lightbox_test_template"
_SERVER_URL = _EXTERNAL_URL or db.server_url(db.WAREHOUSE_DB)
db.ensure_database(db.AIRFLOW_DB)
os.environ.update(airflow_env.airflow_environment())
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"

from lightbox.marts import ensure_manifest  # noqa: E402

ensure_manifest()  # dags/marts_build.py renders from it


def _admin():
    conn = db.connect(db._with_database(_SERVER_URL, "postgres"))
    conn.autocommit = True
    return conn


def _create_from_template(name: str) -> str:
    conn = _admin()
    with conn.cursor() as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
        cur.execute(f'create database "{name}" template "{TEMPLATE_DB}"')
    conn.close()
    return db._with_database(_SERVER_URL, name)


def _drop(name: str) -> None:
    conn = _admin()
    with conn.cursor() as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
    conn.close()


@pytest.fixture(scope="session")
def warehouse_template() -> str:
    """A database with the whole warehouse schema, cloned by ``db_url``."""
    conn = _admin()
    with conn.cursor() as cur:
        cur.execute(f'drop database if exists "{TEMPLATE_DB}" with (force)')
        cur.execute(f'create database "{TEMPLATE_DB}"')
    conn.close()
    url = db._with_database(_SERVER_URL, TEMPLATE_DB)
    schema.apply_schema(url)
    return url


@pytest.fixture
def db_url(warehouse_template, monkeypatch) -> str:
    """A fresh warehouse database for one test; LIGHTBOX_DATABASE_URL (and Airflow's
    lightbox_warehouse connection) point at it while the test runs."""
    name = f"lbt_{uuid.uuid4().hex[:12]}"
    url = _create_from_template(name)
    monkeypatch.setenv("LIGHTBOX_DATABASE_URL", url)
    monkeypatch.setenv("AIRFLOW_CONN_LIGHTBOX_WAREHOUSE", airflow_env.warehouse_connection_json(url))
    yield url
    _drop(name)


@pytest.fixture(autouse=True)
def no_stale_task_warehouse():
    """A task's pre_execute points lightbox.db at the Airflow connection's database and its
    post_execute lets go, but a task that fails or is skipped never reaches post_execute: in
    a worker that process ends; under dag.test() it is this one. Every test starts and ends
    without a task's warehouse."""
    db.use_warehouse(None)
    yield
    db.use_warehouse(None)


@pytest.fixture
def scratch_db_url(warehouse_template) -> str:
    """A second fresh warehouse database (for comparing a run with one from scratch); the
    environment keeps pointing at ``db_url``."""
    name = f"lbt_{uuid.uuid4().hex[:12]}"
    url = _create_from_template(name)
    yield url
    _drop(name)


@pytest.fixture
def conn(db_url):
    """A psycopg2 connection (autocommit) to the test's fresh database."""
    connection = db.connect(db_url)
    connection.autocommit = True
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def airflow_metadata() -> None:
    """Airflow's metadata database, migrated once per test session."""
    airflow_env.ensure_metadata_db()


@pytest.fixture
def landing(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    monkeypatch.setenv("LIGHTBOX_LANDING", str(path))
    return path


@pytest.fixture
def lightbox_home(tmp_path, monkeypatch) -> Path:
    """A LIGHTBOX_HOME of the test's own for objects, models, evidence and regions. The
    database stays the session's server: LIGHTBOX_DATABASE_URL is always set in tests."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("LIGHTBOX_HOME", str(home))
    for name in ("LIGHTBOX_OBJECT_STORE", "LIGHTBOX_REGION_CN_URI", "LIGHTBOX_REGION_EU_URI"):
        monkeypatch.delenv(name, raising=False)
    return home


def pytest_sessionfinish(session, exitstatus):
    if not _EXTERNAL_URL:
        db._pg_ctl(_HOME / "pgdata", "stop", "-w", "-m", "fast")
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture
def run_dag(airflow_metadata, db_url):
    """Run a DAG of ``dags/`` once with ``dag.test()`` against the test's fresh database and
    return ``(dag_run, {task_id: state})``. Mapped tasks report their worst state."""

    def _run(dag_id: str, conf: dict | None = None, logical_date=None):
        from airflow.dag_processing.bundles.manager import DagBundlesManager
        from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
        from airflow.models import TaskInstance
        from airflow.utils.session import create_session

        bag = DagBag(dag_folder=str(REPO / "dags" / f"{dag_id}.py"))
        assert not bag.import_errors, bag.import_errors
        with create_session() as session:
            DagBundlesManager().sync_bundles_to_db(session=session)
        sync_bag_to_db(bag, "dags-folder", None)
        dag = bag.get_dag(dag_id)
        dag_run = dag.test(run_conf=conf, logical_date=logical_date)
        states: dict[str, str] = {}
        order = ["failed", "upstream_failed", "skipped", "success"]
        with create_session() as session:
            for ti in session.query(TaskInstance).filter_by(dag_id=dag_id, run_id=dag_run.run_id):
                state = str(ti.state.value if hasattr(ti.state, "value") else ti.state)
                previous = states.get(ti.task_id)
                if previous is None or (state in order and (previous not in order or order.index(state) < order.index(previous))):
                    states[ti.task_id] = state
        return dag_run, states

    return _run

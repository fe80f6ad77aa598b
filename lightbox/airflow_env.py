"""The environment Airflow runs in, derived from Lightbox's own configuration: one place that
says where Airflow's home, DAGs, plugins and metadata database are, and how tasks reach the
warehouse (the ``lightbox_warehouse`` connection and ``LIGHTBOX_DATABASE_URL``)."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from lightbox import db
from lightbox.config import REPO_ROOT, settings
from lightbox.task_defaults import WAREHOUSE_CONN_ID


def warehouse_connection_json(url: str) -> str:
    params = db.connection_params(url)
    return json.dumps(
        {
            "conn_type": "postgres",
            "host": params["host"],
            "port": params["port"],
            "login": params["user"],
            # The embedded server trusts local connections and ignores the password; tools
            # such as Cosmos' profile mapping insist on one.
            "password": params["password"] or "embedded-trust",
            "schema": params["dbname"],
        }
    )


def airflow_environment() -> dict[str, str]:
    """Variables to add to a process that runs Airflow (CLI, dag.test, scheduler…)."""
    cfg = settings()
    warehouse = db.warehouse_url()
    env = {
        "AIRFLOW_HOME": str(cfg.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db.airflow_metadata_url(),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(cfg.home / "logs"),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__API__PORT": os.environ.get("AIRFLOW__API__PORT", "8080"),
        f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}": warehouse_connection_json(warehouse),
        # Children reach the already-running server directly; none starts another.
        "LIGHTBOX_DATABASE_URL": warehouse,
        "LIGHTBOX_HOME": str(cfg.home),
        "LIGHTBOX_LANDING": str(cfg.landing),
    }
    return env


def airflow_command(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run the ``airflow`` CLI of this virtual environment with the Lightbox environment."""
    full_env = {**os.environ, **airflow_environment(), **(env or {})}
    exe = Path(sys.executable).with_name("airflow")
    return subprocess.run([str(exe), *args], env=full_env, **kwargs)


def ensure_metadata_db() -> None:
    """Create or migrate Airflow's metadata database (once per Airflow version)."""
    import importlib.metadata

    cfg = settings()
    version = importlib.metadata.version("apache-airflow")
    cfg.airflow_home.mkdir(parents=True, exist_ok=True)
    url_digest = hashlib.sha256(db.airflow_metadata_url().encode()).hexdigest()[:12]
    marker = cfg.airflow_home / f".migrated-{version}-{url_digest}"
    if marker.exists():
        return
    result = airflow_command("db", "migrate", capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    marker.touch()

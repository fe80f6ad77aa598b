"""The dbt project in ``dbt/``: its environment (the profile is built from the same database
configuration as everything else), the precompiled manifest Cosmos renders the
``marts_build`` DAG from, and plain dbt commands for tests and benchmarks."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lightbox import db
from lightbox.config import REPO_ROOT

DBT_DIR = REPO_ROOT / "dbt"
MANIFEST = DBT_DIR / "target" / "manifest.json"


def dbt_environment(url: str | None = None) -> dict[str, str]:
    """Variables dbt/profiles.yml reads (LIGHTBOX_DBT_*), from a libpq URL."""
    params = db.connection_params(url or db.warehouse_url())
    return {
        "LIGHTBOX_DBT_HOST": str(params["host"]),
        "LIGHTBOX_DBT_PORT": str(params["port"]),
        "LIGHTBOX_DBT_USER": params["user"],
        "LIGHTBOX_DBT_PASSWORD": params["password"],
        "LIGHTBOX_DBT_DBNAME": params["dbname"],
        "DBT_PROFILES_DIR": str(DBT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def dbt_executable() -> str:
    return str(Path(sys.executable).with_name("dbt"))


def dbt(*args: str, url: str | None = None, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess:
    """Run a dbt command in the project with the warehouse's profile."""
    parse_only = args[:1] == ("parse",) and url is None
    env = {**os.environ, **(_parse_env() if parse_only else dbt_environment(url))}
    proc = subprocess.run(
        [dbt_executable(), *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)],
        cwd=DBT_DIR, env=env, capture_output=capture, text=True,
    )
    if check and proc.returncode != 0:
        out = (proc.stdout or "")[-6000:] + (proc.stderr or "")[-3000:]
        raise RuntimeError(f"dbt {' '.join(args)} failed:\n{out}")
    return proc


def _parse_env() -> dict[str, str]:
    # `dbt parse` reads the profile but never connects: placeholders do.
    return {"DBT_PROFILES_DIR": str(DBT_DIR), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


def _sources_mtime() -> float:
    paths = [DBT_DIR / "dbt_project.yml", DBT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "tests", "analyses"):
        paths.extend(p for p in (DBT_DIR / folder).rglob("*") if p.is_file())
    return max(p.stat().st_mtime for p in paths if p.exists())


def ensure_manifest() -> Path:
    """Write dbt/target/manifest.json with `dbt parse` when it is missing or older than the
    project's files. The marts_build DAG renders from it: no dbt command at parse time."""
    if not MANIFEST.exists() or MANIFEST.stat().st_mtime < _sources_mtime():
        dbt("parse", "--no-partial-parse")
    return MANIFEST

"""The cluster's one-shot services (the same in docker-compose.yml and ``lightbox cluster up``):

``python -m lightbox.cluster.init buckets``: the S3 buckets of the object store and of each
regional mirror (from ``LIGHTBOX_OBJECT_STORE`` and ``LIGHTBOX_REGION_<CODE>_URI``).

``python -m lightbox.cluster.init airflow``: Airflow's metadata database (``airflow db
migrate``), the warehouse schema, the inspector app's login role, the simple auth manager's
passwords (from ``AIRFLOW_ADMIN_PASSWORD`` / ``AIRFLOW_PASSWORDS``), the dbt manifest the
``marts_build`` DAG renders from (when the image did not build it), and the folders every
service writes into.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from lightbox import db, schema
from lightbox.config import settings


def bucket_names(env: dict[str, str] | None = None) -> list[str]:
    cfg = settings(env)
    uris = [cfg.object_store, *(r.uri for r in cfg.regions)]
    return sorted({urlsplit(u).netloc for u in uris if u.startswith("s3://")})


def create_buckets() -> list[str]:
    import s3fs

    fs = s3fs.S3FileSystem()
    names = bucket_names()
    for name in names:
        if not fs.exists(name):
            fs.mkdir(name)
    return names


def passwords(env: dict[str, str] | None = None) -> dict[str, str]:
    """user -> password for the simple auth manager: ``AIRFLOW_PASSWORDS`` ("user:password,…")
    and ``AIRFLOW_ADMIN_PASSWORD`` for the user ``admin``."""
    env = os.environ if env is None else env
    out = {}
    for part in (env.get("AIRFLOW_PASSWORDS") or "").split(","):
        user, sep, password = part.strip().partition(":")
        if sep and user:
            out[user] = password
    if env.get("AIRFLOW_ADMIN_PASSWORD"):
        out.setdefault("admin", env["AIRFLOW_ADMIN_PASSWORD"])
    return out


def write_passwords_file() -> Path:
    path = Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(passwords()) + "\n")
    path.chmod(0o600)
    return path


def create_inspector_login(password: str) -> None:
    """The inspector app's login role (``lightbox_inspector``, created by the schema) gets its
    password: the same rule as ``lightbox db start``."""
    from lightbox.inspector.pool import set_login_password

    conn = db.connect(db.warehouse_url())
    try:
        set_login_password(conn, password)
    finally:
        conn.close()


def init_airflow() -> None:
    cfg = settings()
    for folder in (cfg.home, cfg.home / "docs", cfg.home / "logs", cfg.airflow_home, cfg.landing):
        folder.mkdir(parents=True, exist_ok=True)
    airflow_home = Path(os.environ.get("AIRFLOW_HOME", cfg.airflow_home))
    airflow_home.mkdir(parents=True, exist_ok=True)
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow, "db", "migrate"], check=True)
    schema.apply_schema()
    create_inspector_login(os.environ["INSPECTOR_DB_PASSWORD"])
    write_passwords_file()
    from lightbox.marts import ensure_manifest

    ensure_manifest()


def main(argv: list[str]) -> int:
    if argv[:1] == ["buckets"]:
        print("buckets:", ", ".join(create_buckets()))
        return 0
    if argv[:1] == ["airflow"]:
        init_airflow()
        print("airflow-init: metadata migrated, warehouse schema applied, roles and passwords written")
        return 0
    print("usage: python -m lightbox.cluster.init buckets|airflow", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

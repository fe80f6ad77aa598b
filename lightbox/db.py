"""The database server: the embedded PostgreSQL server (from the ``pgserver`` wheel) or any
server named by ``LIGHTBOX_DATABASE_URL``; connections and transactions. The warehouse
schema is applied by :mod:`lightbox.schema`, a layer above (docs/architecture.md).

Two databases live on the server: ``lightbox`` (the warehouse: raw, licensing, infringement,
settlement, replication, quality, marts…) and ``airflow`` (Airflow's metadata). With
``LIGHTBOX_DATABASE_URL`` set, that URL is the warehouse and Airflow's metadata goes to the
database ``airflow`` on the same server unless ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`` says
otherwise.
"""
from __future__ import annotations

import contextlib
import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

from lightbox.config import settings

log = logging.getLogger(__name__)

WAREHOUSE_DB = "lightbox"
AIRFLOW_DB = "airflow"

# Server settings for the embedded server (a development and demo server on one machine).
EMBEDDED_SERVER_SETTINGS = {
    "max_connections": "200",
    "shared_buffers": "512MB",
    "work_mem": "64MB",
    "maintenance_work_mem": "256MB",
    "max_wal_size": "4GB",
    # Embedded mode trades the last few milliseconds of commits on a power cut for speed;
    # the database stays consistent. A cluster uses its own server's settings.
    "synchronous_commit": "off",
}

_servers: dict[Path, object] = {}

# Inside an Airflow task the warehouse is the ``lightbox_warehouse`` connection, not the
# configuration: the DAG layer (lightbox.task_defaults) sets this before the task runs.
_warehouse_from_airflow: str | None = None


def _embedded_server():
    """Start (or attach to) the embedded server for this LIGHTBOX_HOME. It keeps running
    after this process exits, until ``lightbox db stop``."""
    cfg = settings()
    pgdata = cfg.pgdata
    if pgdata in _servers:
        return _servers[pgdata]
    import pgserver  # heavy: only when the embedded server is used

    pgdata.mkdir(parents=True, exist_ok=True)
    fresh = not (pgdata / "PG_VERSION").exists()
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    if fresh:
        _configure_embedded(server)
        server = pgserver.get_server(pgdata, cleanup_mode=None)
    _servers[pgdata] = server
    return server


def _configure_embedded(server) -> None:
    import psycopg2

    conn = psycopg2.connect(server.get_uri("postgres"))
    conn.autocommit = True
    with conn.cursor() as cur:
        for name, value in EMBEDDED_SERVER_SETTINGS.items():
            cur.execute(f"alter system set {name} = %s", (value,))
    conn.close()
    _pg_ctl(server.pgdata, "restart", "-w", "-m", "fast", "-l", str(server.pgdata / "log"))


def _pg_ctl(pgdata: Path, *args: str) -> subprocess.CompletedProcess:
    from pgserver._commands import POSTGRES_BIN_PATH

    cmd = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), *args]
    if os.geteuid() == 0:  # pgserver runs the server as the unprivileged user "pgserver"
        cmd = ["runuser", "-u", "pgserver", "--", *cmd]
    # Output goes to a file, not a pipe: a server started by pg_ctl inherits the pipe and
    # would keep it open for its whole life.
    with open(pgdata.parent / "pg_ctl.out", "a+") as out:
        start = out.seek(0, os.SEEK_END)
        result = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, text=True, timeout=120)
        out.seek(start)
        result.stdout = out.read()
    return result


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def server_url(database: str = WAREHOUSE_DB) -> str:
    """A libpq URL (``psql`` accepts it) for a database on the configured server."""
    cfg = settings()
    if cfg.database_url:
        if database == WAREHOUSE_DB:
            return cfg.database_url
        return _with_database(cfg.database_url, database)
    return _embedded_server().get_uri(database=database)


def warehouse_url() -> str:
    """The warehouse: the URL an Airflow task was handed (:func:`use_warehouse`), else
    ``LIGHTBOX_DATABASE_URL``, else the embedded server."""
    return _warehouse_from_airflow or server_url(WAREHOUSE_DB)


def use_warehouse(url: str | None) -> None:
    """Point this process's warehouse connections at ``url`` (``None``: back to the
    configuration). Only the DAG layer calls it, with the Airflow connection's URL."""
    global _warehouse_from_airflow
    _warehouse_from_airflow = url


def url_from_params(host: str, port: int | None, user: str, password: str, dbname: str) -> str:
    """A libpq URL from the parts :func:`connection_params` returns (an Airflow
    connection's fields); a host that is a path is a unix-socket folder."""
    userinfo = quote(user or "postgres", safe="") + ":" + quote(password or "", safe="")
    port_part = f":{int(port)}" if port else ""
    if host and host.startswith("/"):
        return f"postgresql://{userinfo}@{port_part}/{quote(dbname, safe='')}?host={quote(host, safe='/')}"
    return f"postgresql://{userinfo}@{host or 'localhost'}{port_part}/{quote(dbname, safe='')}"


def airflow_metadata_url() -> str:
    """SQLAlchemy URL of Airflow's metadata database."""
    explicit = os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
    if explicit:
        return explicit
    url = server_url(AIRFLOW_DB)
    return sqlalchemy_url(url)


def sqlalchemy_url(libpq_url: str) -> str:
    parts = urlsplit(libpq_url)
    scheme = "postgresql+psycopg2"
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


def socket_dir(url: str) -> str | None:
    """The unix-socket folder of a URL such as ``postgresql://postgres:@/db?host=/tmp/x``."""
    host = parse_qs(urlsplit(url).query).get("host")
    return host[0] if host else None


def connection_params(url: str | None = None) -> dict:
    """host/port/user/password/dbname of a URL, for tools that want them apart (dbt, Airflow)."""
    url = url or warehouse_url()
    parts = urlsplit(url)
    return {
        "host": socket_dir(url) or parts.hostname or "localhost",
        "port": parts.port or 5432,
        "user": parts.username or "postgres",
        "password": parts.password or "",
        "dbname": parts.path.lstrip("/") or WAREHOUSE_DB,
    }


def connect(url: str | None = None, **kwargs):
    """A psycopg2 connection to the warehouse (or to ``url``)."""
    import psycopg2

    return psycopg2.connect(url or warehouse_url(), **kwargs)


@contextlib.contextmanager
def transaction(url: str | None = None) -> Iterator:
    """A connection in one transaction: committed on success, rolled back on error."""
    conn = connect(url)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def ensure_database(name: str) -> None:
    import psycopg2

    admin = psycopg2.connect(server_url("postgres"))
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(f'create database "{name}"')
                log.info("created database %s", name)
    finally:
        admin.close()


def setup() -> str:
    """Start or reach the server and create both databases (the schema: ``lightbox.schema.setup``).
    Returns the warehouse URL."""
    cfg = settings()
    if cfg.database_url:
        ensure_database_from_url()
    else:
        ensure_database(WAREHOUSE_DB)
    ensure_database(AIRFLOW_DB)
    return warehouse_url()


def ensure_database_from_url() -> None:
    """With LIGHTBOX_DATABASE_URL, the warehouse database is the one the URL names; it
    must exist (we do not create databases on a server we do not own, except airflow's)."""
    conn = connect()
    conn.close()


def status() -> dict:
    cfg = settings()
    if cfg.database_url:
        try:
            connect().close()
            return {"mode": "external", "running": True, "url": cfg.database_url}
        except Exception as exc:  # noqa: BLE001 - reported to the user
            return {"mode": "external", "running": False, "error": str(exc)}
    pid_file = cfg.pgdata / "postmaster.pid"
    if not pid_file.exists():
        return {"mode": "embedded", "running": False, "pgdata": str(cfg.pgdata)}
    result = _pg_ctl(cfg.pgdata, "status")
    running = result.returncode == 0
    info = {"mode": "embedded", "running": running, "pgdata": str(cfg.pgdata)}
    if running:
        info["url"] = warehouse_url()
    return info


def stop() -> bool:
    cfg = settings()
    if cfg.database_url:
        return False
    if not (cfg.pgdata / "postmaster.pid").exists():
        return False
    result = _pg_ctl(cfg.pgdata, "stop", "-w", "-m", "fast")
    _servers.pop(cfg.pgdata, None)
    return result.returncode == 0


"""The cluster's services, in one table: commands, environment, health checks and
dependencies. ``lightbox cluster up`` runs it as local processes (``local.py``) and
``render_compose()`` writes ``docker-compose.yml`` from it; a test checks that the
committed file is what ``render_compose()`` writes, so the two cannot drift apart.

Values carry two kinds of placeholders:

- ``${NAME}``, ``${NAME:-default}``, ``${NAME:?message}``: secrets and settings from the
  environment (compose reads them from ``.env``; the local cluster from the environment,
  else from the secrets file it generates under its home);
- ``<token>``: what differs between a container and a local process: ``<postgres>``,
  ``<redis>``, ``<s3>``, ``<api>`` (host:port of a service), ``<port:NAME>`` (a port),
  ``<bind>`` (the address a server listens on), ``<home>``, ``<landing>``, ``<project>``,
  ``<airflow_home>``, ``<data:NAME>`` (a service's data folder).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# Ports inside a container (compose); the local cluster assigns its own (local.py).
PORTS = {
    "postgres": 5432,
    "redis": 6379,
    "s3": 5000,
    "api": 8080,
    "inspector": 8090,
    "docs": 8091,
    "scheduler-health": 8974,
}

# Which port names a host:port token stands for.
ENDPOINTS = {"postgres": "postgres", "redis": "redis", "s3": "s3", "api": "api"}

# The buckets of the object store and of each regional mirror.
BUCKETS = {"objects": "lightbox-objects", "cn": "lightbox-region-cn", "eu": "lightbox-region-eu"}

# Secrets the cluster needs; the local cluster generates any that the environment lacks.
SECRETS = (
    "POSTGRES_PASSWORD",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_FERNET_KEY",
    "AIRFLOW_ADMIN_PASSWORD",
    "INSPECTOR_DB_PASSWORD",
)

LIGHTBOX_IMAGE = "lightbox-airflow:latest"


@dataclass(frozen=True)
class Health:
    """How to tell that a service is up.

    kind: ``postgres`` (accepts connections), ``redis`` (PING), ``http`` (GET ``path`` on
    port ``port`` answers 2xx), ``job`` (an Airflow job of ``job_type`` heartbeats),
    ``celery`` (the worker answers a Celery ping)."""

    kind: str
    port: str = ""
    path: str = "/"
    job_type: str = ""


@dataclass(frozen=True)
class Service:
    name: str
    command: tuple[str, ...]
    image: str = LIGHTBOX_IMAGE
    env: dict = field(default_factory=dict)
    health: Health | None = None
    # service -> "healthy" | "completed" (a one-shot that must have succeeded)
    depends_on: dict = field(default_factory=dict)
    one_shot: bool = False
    scaled: bool = False  # N replicas: the Celery workers
    publish: tuple[str, ...] = ()  # port names published on the host (compose)
    volumes: tuple[str, ...] = ()  # compose only
    # Flags only the local processes need: all run on one host, so each needs its own pid
    # file, and none serves its logs over HTTP (the log folder is shared on disk).
    local_args: tuple[str, ...] = ()


WAREHOUSE_URL = "postgresql://lightbox:${POSTGRES_PASSWORD}@<postgres>/lightbox"

LIGHTBOX_ENV = {
    "LIGHTBOX_HOME": "<home>",
    "LIGHTBOX_LANDING": "<landing>",
    "LIGHTBOX_PROJECT_DIR": "<project>",
    "LIGHTBOX_DATABASE_URL": WAREHOUSE_URL,
    "LIGHTBOX_OBJECT_STORE": f"s3://{BUCKETS['objects']}",
    "LIGHTBOX_REGIONS": "cn,eu",
    "LIGHTBOX_REGION_CN_URI": f"s3://{BUCKETS['cn']}",
    "LIGHTBOX_REGION_CN_ENFORCEABLE": "false",
    "LIGHTBOX_REGION_EU_URI": f"s3://{BUCKETS['eu']}",
    "LIGHTBOX_OWN_DOMAINS": "${LIGHTBOX_OWN_DOMAINS:-}",
    "LIGHTBOX_PHOTOGRAPHER_SHARE": "${LIGHTBOX_PHOTOGRAPHER_SHARE:-0.50}",
    "LIGHTBOX_CRAWL_ALLOW_NETWORKS": "${LIGHTBOX_CRAWL_ALLOW_NETWORKS:-}",
    "LIGHTBOX_CRAWL_RESOLVE": "${LIGHTBOX_CRAWL_RESOLVE:-}",
    "LIGHTBOX_STOCK_FEEDS": "${LIGHTBOX_STOCK_FEEDS:-}",
    # s3fs (fsspec) and boto3 reach the S3 endpoint through these.
    "AWS_ACCESS_KEY_ID": "${S3_ACCESS_KEY}",
    "AWS_SECRET_ACCESS_KEY": "${S3_SECRET_KEY}",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ENDPOINT_URL": "http://<s3>",
    "FSSPEC_S3_ENDPOINT_URL": "http://<s3>",
}

# Airflow's components have no LIGHTBOX_DATABASE_URL: a task's warehouse is the
# lightbox_warehouse connection below, the single source of its credentials
# (lightbox.task_defaults). One-shot CLI services (airflow-init) and the inspector keep it.
AIRFLOW_ENV = {
    **{name: value for name, value in LIGHTBOX_ENV.items() if name != "LIGHTBOX_DATABASE_URL"},
    "AIRFLOW_HOME": "<airflow_home>",
    "AIRFLOW__CORE__DAGS_FOLDER": "<project>/dags",
    "AIRFLOW__CORE__PLUGINS_FOLDER": "<project>/plugins",
    "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    "AIRFLOW__CORE__FERNET_KEY": "${AIRFLOW_FERNET_KEY}",
    # Task instances record which worker ran them (LIGHTBOX_WORKER_NAME, else the host name).
    "AIRFLOW__CORE__HOSTNAME_CALLABLE": "lightbox.cluster.hostname.hostname",
    "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "${AIRFLOW_USERS:-admin:admin}",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": "<airflow_home>/passwords.json",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": "http://<api>/execution/",
    "AIRFLOW__API__PORT": "<port:api>",
    "AIRFLOW__API_AUTH__JWT_SECRET": "${AIRFLOW_JWT_SECRET}",
    "AIRFLOW__API__SECRET_KEY": "${AIRFLOW_JWT_SECRET}",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql+psycopg2://lightbox:${POSTGRES_PASSWORD}@<postgres>/airflow",
    "AIRFLOW__CELERY__BROKER_URL": "redis://<redis>/0",
    "AIRFLOW__CELERY__RESULT_BACKEND": "db+postgresql://lightbox:${POSTGRES_PASSWORD}@<postgres>/airflow",
    "AIRFLOW__CELERY__WORKER_CONCURRENCY": "${AIRFLOW_WORKER_CONCURRENCY:-2}",
    "AIRFLOW__LOGGING__BASE_LOG_FOLDER": "<home>/logs/airflow",
    "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "<bind>",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": "<port:scheduler-health>",
    # False: only runs triggered by hand or through the REST API (the smoke test sets it).
    "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "${AIRFLOW_USE_JOB_SCHEDULE:-True}",
    # seconds without a heartbeat before a task counts as lost (its worker died) and is retried
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "${AIRFLOW_TASK_HEARTBEAT_TIMEOUT:-300}",
    "AIRFLOW_CONN_LIGHTBOX_WAREHOUSE": "postgres://lightbox:${POSTGRES_PASSWORD}@<postgres>/lightbox",
}

INSPECTOR_ENV = {
    **LIGHTBOX_ENV,
    # its own login role, a member of inspector_app (lightbox/schema/80_inspector.sql)
    "LIGHTBOX_INSPECTOR_DATABASE_URL": "postgresql://lightbox_inspector:${INSPECTOR_DB_PASSWORD}@<postgres>/lightbox",
}

INFRA = {"postgres": "healthy", "redis": "healthy", "s3": "healthy"}
AFTER_INIT = {"postgres": "healthy", "airflow-init": "completed"}
SHARED_VOLUMES = ("lightbox-home:/opt/lightbox/home", "./landing:/opt/lightbox/landing")


def airflow_service(name: str, *command: str, health: Health, **kwargs) -> Service:
    """An Airflow component: the Airflow environment, after the infrastructure and airflow-init."""
    kwargs.setdefault("depends_on", {**INFRA, "airflow-init": "completed"})
    return Service(name, command=("airflow", *command), env=AIRFLOW_ENV, health=health, volumes=SHARED_VOLUMES, **kwargs)


SERVICES: tuple[Service, ...] = (
    Service(
        "postgres",
        command=("postgres", "-c", "listen_addresses=<bind>", "-p", "<port:postgres>", "-c", "max_connections=300"),
        image="postgres:16",
        env={"POSTGRES_USER": "lightbox", "POSTGRES_PASSWORD": "${POSTGRES_PASSWORD}", "POSTGRES_DB": "lightbox"},
        health=Health("postgres", port="postgres"),
        publish=(),
        volumes=("postgres-data:/var/lib/postgresql/data",
                 "./scripts/cluster-init.sql:/docker-entrypoint-initdb.d/10-airflow-db.sql:ro"),
    ),
    Service(
        "redis",
        command=("redis-server", "--bind", "<bind>", "--port", "<port:redis>", "--protected-mode", "no",
                 "--save", "", "--appendonly", "no", "--dir", "<data:redis>"),
        image="redis:7.4",
        health=Health("redis", port="redis"),
    ),
    Service(
        # S3 API: moto's server (in memory: a stand-in; point LIGHTBOX_OBJECT_STORE and
        # AWS_ENDPOINT_URL at a real S3 for data that must outlive the cluster).
        "s3",
        command=("moto_server", "-H", "<bind>", "-p", "<port:s3>"),
        image="motoserver/moto:5.2.6",
        health=Health("http", port="s3", path="/moto-api/"),
    ),
    Service(
        "s3-buckets",
        command=("python", "-m", "lightbox.cluster.init", "buckets"),
        env=LIGHTBOX_ENV,
        depends_on={"s3": "healthy"},
        one_shot=True,
    ),
    Service(
        "airflow-init",
        command=("python", "-m", "lightbox.cluster.init", "airflow"),
        env={**AIRFLOW_ENV, "LIGHTBOX_DATABASE_URL": WAREHOUSE_URL, "INSPECTOR_DB_PASSWORD": "${INSPECTOR_DB_PASSWORD}",
             "AIRFLOW_ADMIN_PASSWORD": "${AIRFLOW_ADMIN_PASSWORD}", "AIRFLOW_PASSWORDS": "${AIRFLOW_PASSWORDS:-}"},
        depends_on={"postgres": "healthy"},
        one_shot=True,
        volumes=SHARED_VOLUMES,
    ),
    airflow_service("airflow-api-server", "api-server", "--host", "<bind>", "--port", "<port:api>",
                    health=Health("http", port="api", path="/api/v2/monitor/health"), publish=("api",)),
    airflow_service("airflow-scheduler", "scheduler", health=Health("http", port="scheduler-health", path="/health"),
                    local_args=("--skip-serve-logs",)),
    airflow_service("airflow-dag-processor", "dag-processor", health=Health("job", job_type="DagProcessorJob")),
    airflow_service("airflow-triggerer", "triggerer", health=Health("job", job_type="TriggererJob"),
                    local_args=("--skip-serve-logs",)),
    # Scale out: docker compose up -d --scale airflow-worker=N; lightbox cluster up --workers N
    airflow_service("airflow-worker", "celery", "worker", health=Health("celery"), scaled=True,
                    local_args=("--skip-serve-logs",),
                    depends_on={**INFRA, "airflow-init": "completed", "airflow-api-server": "healthy"}),
    Service(
        "inspector",
        command=("lightbox", "inspector", "serve", "--host", "<bind>", "--port", "<port:inspector>"),
        env=INSPECTOR_ENV,
        health=Health("http", port="inspector", path="/healthz"),
        depends_on=AFTER_INIT,
        publish=("inspector",),
        volumes=SHARED_VOLUMES,  # it shows the photos of the landing folder
    ),
    Service(
        # Great Expectations Data Docs (the quality_report DAG writes them to <home>/docs)
        "data-docs",
        command=("python", "-m", "http.server", "<port:docs>", "--bind", "<bind>", "--directory", "<home>/docs"),
        env={},
        health=Health("http", port="docs", path="/"),
        depends_on={"airflow-init": "completed"},
        publish=("docs",),
        volumes=("lightbox-home:/opt/lightbox/home",),
    ),
)

SERVICE_NAMES = tuple(s.name for s in SERVICES)


def service(name: str) -> Service:
    for s in SERVICES:
        if s.name == name:
            return s
    raise KeyError(name)


_TOKEN = re.compile(r"<([a-z][a-z0-9_]*)(?::([a-z0-9_-]+))?>")
_VAR = re.compile(r"\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}")


def fill_tokens(value: str, tokens: dict[str, str]) -> str:
    """Replace ``<token>`` and ``<token:arg>`` with their values (KeyError when unknown)."""

    def replace(m: re.Match) -> str:
        key = m.group(1) if m.group(2) is None else f"{m.group(1)}:{m.group(2)}"
        return str(tokens[key])

    return _TOKEN.sub(replace, value)


def fill_vars(value: str, variables: dict[str, str]) -> str:
    """Expand ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?message}`` as compose does."""

    def replace(m: re.Match) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        got = variables.get(name)
        if got:
            return got
        if op == "-":
            return arg
        if op == "?" or got is None:
            raise KeyError(f"{name} is not set" + (f": {arg}" if arg else ""))
        return got

    return _VAR.sub(replace, value)


def variables_used() -> set[str]:
    """Every ``${NAME}`` the table reads."""
    names = set()
    for s in SERVICES:
        for value in [*s.command, *s.env.values()]:
            names.update(m.group(1) for m in _VAR.finditer(value))
    return names

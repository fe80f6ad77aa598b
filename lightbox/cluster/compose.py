"""``docker-compose.yml`` written from the services table (``lightbox cluster compose >
docker-compose.yml``). tests/test_cluster_compose.py checks that the committed file is
exactly this output."""
from __future__ import annotations

import re

import yaml

from lightbox.cluster import services as table

HEADER = """\
# Lightbox cluster mode: PostgreSQL 16, Redis, an S3 endpoint (moto), Airflow 3 with the
# CeleryExecutor (api-server, scheduler, dag-processor, triggerer, workers), the inspector
# app and the Data Docs server. Same code as the embedded mode, configured by environment.
#
# GENERATED from lightbox/cluster/services.py (the table `lightbox cluster up` runs as local
# processes): edit the table, then `lightbox cluster compose > docker-compose.yml`.
#
#   cp .env.example .env        # then set the secrets in .env (never commit them)
#   mkdir -p landing            # the landing folder the marketplace delivers into
#   docker compose up -d --build
#   docker compose up -d --scale airflow-worker=4
#
"""

TOKENS = {
    "bind": "0.0.0.0",
    "home": "/opt/lightbox/home",
    "landing": "/opt/lightbox/landing",
    "project": "/opt/lightbox",
    "airflow_home": "/opt/lightbox/home/airflow",
    "data:redis": "/data",
    "postgres": f"postgres:{table.PORTS['postgres']}",
    "redis": f"redis:{table.PORTS['redis']}",
    "s3": f"s3:{table.PORTS['s3']}",
    "api": f"airflow-api-server:{table.PORTS['api']}",
    **{f"port:{name}": str(port) for name, port in table.PORTS.items()},
}

HEALTH_TIMING = {"interval": "10s", "timeout": "10s", "retries": 10, "start_period": "30s"}
# Commands the image's own entrypoint expects as arguments; the rest replace the entrypoint.
ENTRYPOINT_ARGS = ("airflow", "postgres", "redis-server")


def _secrets_required(value: str) -> str:
    """``${SECRET}`` becomes ``${SECRET:?set SECRET in .env}``: compose refuses to start without it."""
    return re.sub(r"\$\{(%s)\}" % "|".join(table.SECRETS), r"${\1:?set \1 in .env}", value)


def _fill(value: str) -> str:
    return _secrets_required(table.fill_tokens(value, TOKENS))


def healthcheck(health: table.Health) -> dict:
    if health.kind == "postgres":
        test = ["CMD", "pg_isready", "-U", "lightbox", "-p", str(table.PORTS["postgres"])]
    elif health.kind == "redis":
        test = ["CMD", "redis-cli", "-p", str(table.PORTS["redis"]), "ping"]
    elif health.kind == "http":
        url = f"http://localhost:{table.PORTS[health.port]}{health.path}"
        test = ["CMD", "python", "-c", "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)", url]
    elif health.kind == "job":
        test = ["CMD-SHELL", f'airflow jobs check --job-type {health.job_type} --hostname "$${{HOSTNAME}}"']
    elif health.kind == "celery":
        test = ["CMD-SHELL", "celery --app airflow.providers.celery.executors.celery_executor.app inspect ping "
                '-d "celery@$${HOSTNAME}"']
    else:
        raise ValueError(health.kind)
    return {"test": test, **HEALTH_TIMING}


def service_spec(s: table.Service) -> dict:
    spec: dict = {}
    if s.image == table.LIGHTBOX_IMAGE:
        spec["build"] = "."
        spec["user"] = "${AIRFLOW_UID:-50000}:0"
    spec["image"] = s.image
    argv = [_fill(a) for a in s.command]
    if argv[0] in ENTRYPOINT_ARGS:
        spec["command"] = argv
    else:
        spec["entrypoint"] = argv
    if s.env:
        spec["environment"] = {k: _fill(v) for k, v in s.env.items()}
    if s.publish:
        spec["ports"] = [f"{table.PORTS[p]}:{table.PORTS[p]}" for p in s.publish]
    if s.volumes:
        spec["volumes"] = list(s.volumes)
    if s.health:
        spec["healthcheck"] = healthcheck(s.health)
    if s.depends_on:
        conditions = {"healthy": "service_healthy", "completed": "service_completed_successfully"}
        spec["depends_on"] = {name: {"condition": conditions[c]} for name, c in s.depends_on.items()}
    spec["restart"] = "no" if s.one_shot else "always"
    return spec


def compose() -> dict:
    return {
        "services": {s.name: service_spec(s) for s in table.SERVICES},
        "volumes": {"postgres-data": None, "lightbox-home": None},
    }


class _Dumper(yaml.SafeDumper):
    """Lists (commands, health checks) on one line; mappings as blocks."""


_Dumper.add_representer(list, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True))


def render() -> str:
    body = yaml.dump(compose(), Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=200)
    return HEADER + body.replace("null\n", "\n").replace(": \n", ":\n")

"""docker-compose.yml cannot run here (no Docker engine); what CI runs is the same services
table as local processes (tests/cluster/). These tests keep the compose file that table's
output, and check the properties a container deployment needs from it."""
from pathlib import Path

import yaml

from lightbox.cluster import compose, services
from lightbox.config import DAG_ORDER

REPO = Path(__file__).resolve().parent.parent


def test_the_committed_compose_file_is_the_services_table():
    committed = (REPO / "docker-compose.yml").read_text()
    assert committed == compose.render(), (
        "docker-compose.yml drifted from lightbox/cluster/services.py: "
        "run `lightbox cluster compose > docker-compose.yml`")


def test_compose_has_the_cluster_services_and_no_secrets():
    text = (REPO / "docker-compose.yml").read_text()
    spec = yaml.safe_load(text)["services"]
    for name in ("postgres", "redis", "s3", "airflow-init", "airflow-api-server", "airflow-scheduler",
                 "airflow-dag-processor", "airflow-triggerer", "airflow-worker", "inspector", "data-docs"):
        assert name in spec, name
    assert spec["postgres"]["image"].startswith("postgres:16")
    assert not any("minio" in s["image"] for s in spec.values())  # that image is no longer served
    worker = spec["airflow-worker"]
    assert "container_name" not in worker  # --scale airflow-worker=N needs unnamed containers
    env = worker["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["LIGHTBOX_OBJECT_STORE"].startswith("s3://")
    assert env["LIGHTBOX_REGION_CN_URI"].startswith("s3://") and env["LIGHTBOX_REGION_EU_URI"].startswith("s3://")
    # A task's warehouse is the lightbox_warehouse connection, its one source of credentials;
    # the one-shot init (a CLI) reads LIGHTBOX_DATABASE_URL.
    assert "@postgres:5432/lightbox" in env["AIRFLOW_CONN_LIGHTBOX_WAREHOUSE"]
    assert "LIGHTBOX_DATABASE_URL" not in env
    assert "@postgres:5432/" in spec["airflow-init"]["environment"]["LIGHTBOX_DATABASE_URL"]
    assert env["AIRFLOW__CORE__FERNET_KEY"].startswith("${AIRFLOW_FERNET_KEY:?")
    # Secrets come from .env, never from the repository.
    for line in text.splitlines():
        key = line.split(":", 1)[0].strip()
        if any(word in key for word in ("PASSWORD", "SECRET", "FERNET")) and not key.endswith("_FILE") \
                and ":" in line and not line.strip().startswith("#"):
            assert "${" in line or "$${" in line, f"a secret written into docker-compose.yml: {line.strip()}"


def test_every_long_running_service_has_a_health_check_and_waits_for_what_it_needs():
    spec = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    for name, s in spec.items():
        if s.get("restart") != "no":
            assert "healthcheck" in s, name
        for dep, cond in s.get("depends_on", {}).items():
            assert dep in spec
            wanted = "service_completed_successfully" if spec[dep].get("restart") == "no" else "service_healthy"
            assert cond == {"condition": wanted}, (name, dep)
    # the inspector app logs in with its own role, not the warehouse owner
    assert spec["inspector"]["environment"]["LIGHTBOX_INSPECTOR_DATABASE_URL"].startswith("postgresql://lightbox_inspector:")
    # Data Docs are served by a service, on the port the links use
    assert spec["data-docs"]["ports"] == ["8091:8091"]


def test_env_example_names_every_secret_the_table_reads():
    example = (REPO / ".env.example").read_text()
    names = {line.split("=", 1)[0] for line in example.splitlines() if "=" in line and not line.startswith("#")}
    assert set(services.SECRETS) <= names


def test_the_image_installs_runtime_pins_only_and_builds_the_dbt_manifest():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "requirements.txt" in dockerfile and "constraints.txt" in dockerfile
    assert "requirements-dev.txt" not in dockerfile
    assert "ensure_manifest" in dockerfile  # dbt parse at build: marts_build renders from it
    assert "LIGHTBOX_PROJECT_DIR=/opt/lightbox" in dockerfile
    runtime = (REPO / "requirements.txt").read_text().lower()
    for dev_only in ("pytest", "playwright", "sqlfluff", "hypothesis"):
        assert dev_only not in runtime, dev_only
    for pin in ("apache-airflow-providers-celery==", "celery==", "kombu==", "redis=="):
        assert pin in runtime, pin


def test_every_pin_is_locked_in_constraints():
    locked = {line.split("==")[0].lower().replace("_", "-") for line in (REPO / "constraints.txt").read_text().splitlines()
              if "==" in line}
    for req in ("requirements.txt", "requirements-dev.txt"):
        for line in (REPO / req).read_text().splitlines():
            if "==" in line and not line.startswith("#"):
                name = line.split("==")[0].split("[")[0].lower().replace("_", "-")
                assert name in locked, f"{req}: {name} is not in constraints.txt"


def test_the_dags_find_dbt_through_configuration(monkeypatch, tmp_path):
    import importlib

    import lightbox.config

    monkeypatch.setenv("LIGHTBOX_PROJECT_DIR", str(tmp_path))
    try:
        assert importlib.reload(lightbox.config).REPO_ROOT == tmp_path.resolve()
    finally:
        monkeypatch.delenv("LIGHTBOX_PROJECT_DIR")
        importlib.reload(lightbox.config)
    assert "marts_build" in DAG_ORDER
    assert "from lightbox.marts import DBT_DIR" in (REPO / "dags" / "marts_build.py").read_text()

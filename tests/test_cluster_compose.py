"""docker-compose.yml cannot run here (no Docker engine): check that it stays what the README
promises, the cluster mode of shared/DESIGN.md, configured by environment only."""
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def test_compose_has_the_cluster_services_and_no_secrets():
    text = (REPO / "docker-compose.yml").read_text()
    compose = yaml.safe_load(text)
    services = compose["services"]
    for name in ("postgres", "redis", "minio", "airflow-api-server", "airflow-scheduler",
                 "airflow-dag-processor", "airflow-triggerer", "airflow-worker", "inspector"):
        assert name in services, name
    assert services["postgres"]["image"].startswith("postgres:16")
    worker = services["airflow-worker"]
    assert "container_name" not in worker  # --scale airflow-worker=N needs unnamed containers
    env = worker["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["LIGHTBOX_OBJECT_STORE"].startswith("s3://")
    # Secrets come from .env, never from the repository.
    for line in text.splitlines():
        if ("PASSWORD" in line or "SECRET" in line) and ":" in line and not line.strip().startswith("#"):
            assert "${" in line or "$${" in line, f"a secret written into docker-compose.yml: {line.strip()}"


def test_the_image_installs_the_pinned_requirements():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "requirements.txt" in dockerfile and "constraints.txt" in dockerfile

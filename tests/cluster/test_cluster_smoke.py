"""The cluster mode, run for real: ``lightbox cluster up`` with 2 Celery workers (PostgreSQL
over TCP, Redis, moto's S3 endpoint, the Airflow components with the CeleryExecutor), the
small sample marketplace, the whole chain triggered through Airflow's REST API as a data team
would, then what a user cares about: every run succeeded, the work was spread over both
workers, the outputs are S3 objects, the outcome equals the embedded run's, and a worker
killed mid-sweep costs a retry, not data.

Every process the cluster started is stopped at the end (the fixture's ``finally``), also when
a test fails. Ports are OS-assigned free ones.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest

from lightbox.cluster import local
from lightbox.cluster.api import run_chain
from lightbox.cluster.harness import SampleCluster, sample_environment
from lightbox.config import DAG_ORDER

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

WORKERS = ("airflow-worker-1", "airflow-worker-2")
# The DAGs whose outputs the comparison with the embedded run reads.
COMPARED_DAGS = ("ingest_landing", "exclusivity_audit", "infringement_sweep", "settlement_reconcile", "replication_sync")
OUTCOME = {
    "matches": "select photo_id, page_url, image_url, method, status from infringement.matches",
    "cases": "select photo_id, owner_id, infringer_domain, status from infringement.cases",
    "credits": "select photographer_id, amount, currency from settlement.credits",
    "mirrors": "select region, photo_id, sha256 from replication.inventory",
    "violations": "select photo_id, site, listing_url, status from exclusivity.violations",
}


def outcome(url: str) -> dict[str, list[tuple]]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            out = {}
            for name, sql in OUTCOME.items():
                cur.execute(sql)
                out[name] = sorted(cur.fetchall(), key=repr)
            return out
    finally:
        conn.close()


@pytest.fixture(scope="module")
def cluster():
    home = Path(tempfile.mkdtemp(prefix="lbcl-", dir="/tmp"))
    # Concurrency 1: each worker takes one task at a time, so parallel tasks (the sweep's shards)
    # go to both workers. A dead worker's tasks are noticed after 45 s, not the default 5 min.
    c = SampleCluster(home, workers=2, extra_env={"AIRFLOW_WORKER_CONCURRENCY": "1",
                                                  "AIRFLOW_TASK_HEARTBEAT_TIMEOUT": "45"})
    try:
        c.start()
        c.api.wait_for_dags(DAG_ORDER, timeout=600)
        c.runs = run_chain(c.api, c.manifest["as_of"], timeout=1800)
        c.warehouse = c.client_environment()["LIGHTBOX_DATABASE_URL"]
        yield c
    finally:
        c.stop()
        leftovers = [n for n, p in (local.load_state(c.root) or {}).get("processes", {}).items()
                     if local.process_tree(p["pid"], p.get("started"))]
        shutil.rmtree(home, ignore_errors=True)
        assert not leftovers, f"processes left running: {leftovers}"


def test_every_dag_of_the_chain_succeeded(cluster):
    assert {d: state for d, (_, state) in cluster.runs.items()} == {d: "success" for d in DAG_ORDER}


def test_tasks_ran_on_both_workers_and_the_sweep_shards_were_spread(cluster):
    hosts = set()
    for dag_id, (run_id, _) in cluster.runs.items():
        hosts |= {ti["hostname"] for ti in cluster.api.task_instances(dag_id, run_id) if ti.get("hostname")}
    assert set(WORKERS) <= hosts

    run_id = cluster.runs["infringement_sweep"][0]
    shards = [ti for ti in cluster.api.task_instances("infringement_sweep", run_id) if ti["task_id"] == "crawl_shard"]
    assert len(shards) >= 2
    assert {ti["hostname"] for ti in shards} == set(WORKERS)


def test_evidence_models_and_mirrors_are_s3_objects(cluster):
    import boto3

    env = cluster.client_environment()
    s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name=env["AWS_DEFAULT_REGION"])

    def keys(bucket: str, prefix: str = "") -> set[str]:
        out = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            out |= {o["Key"] for o in page.get("Contents", [])}
        return out

    conn = psycopg2.connect(cluster.warehouse)
    with conn.cursor() as cur:
        cur.execute("select evidence_uri from infringement.cases")
        evidence = [r[0] for r in cur.fetchall()]
        cur.execute("select artifact_uri from licensing.model_versions")
        models = [r[0] for r in cur.fetchall()]
        cur.execute("select region, object_key from replication.inventory")
        mirrored = cur.fetchall()
    conn.close()
    assert evidence and models and mirrored
    objects = keys("lightbox-objects")
    for uri in evidence:
        assert uri.startswith("s3://lightbox-objects/")
        key = uri.removeprefix("s3://lightbox-objects/").rstrip("/")
        assert key in objects or any(k.startswith(key + "/") for k in objects), uri
    for uri in models:
        assert uri.startswith("s3://lightbox-objects/models/")
        assert any(k.startswith(uri.removeprefix("s3://lightbox-objects/")) for k in objects), uri
    for region in {r for r, _ in mirrored}:
        in_bucket = keys(f"lightbox-region-{region}")
        expected = {k for r, k in mirrored if r == region}
        assert {k.split("/", 3)[-1] if k.startswith("s3://") else k for k in expected} <= in_bucket


def test_the_outcome_equals_the_embedded_runs(cluster):
    """The same landing files and sample sites, run embedded (``lightbox run``: one process,
    ``airflow dags test``): the same matches, cases, credits, violations and mirror contents."""
    home = Path(tempfile.mkdtemp(prefix="lbem-", dir="/tmp"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(local.STRIPPED_PREFIXES)}
    env.update(sample_environment(cluster.manifest))
    env.update({"LIGHTBOX_HOME": str(home), "LIGHTBOX_LANDING": str(cluster.landing)})
    lightbox = [sys.executable, "-m", "lightbox.cli"]
    try:
        proc = subprocess.run([*lightbox, "run", *COMPARED_DAGS, "--logical-date", cluster.manifest["as_of"]],
                              env=env, capture_output=True, text=True, timeout=1800)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        url = subprocess.run([*lightbox, "db", "url"], env=env, capture_output=True, text=True, check=True).stdout.strip()
        embedded = outcome(url)
    finally:
        subprocess.run([*lightbox, "db", "stop"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(home, ignore_errors=True)
    clustered = outcome(cluster.warehouse)
    assert clustered["matches"] and clustered["cases"] and clustered["credits"] and clustered["mirrors"]
    for name in OUTCOME:
        assert clustered[name] == embedded[name], name


def kill_a_worker_running_a_crawl_task(cluster, run_id: str) -> tuple | None:
    """SIGKILL the worker (and the task it runs, at once, like a lost machine) as soon as one
    of the run's crawl tasks runs on it: (worker, task_id, map_index), or None if the run
    finished first."""
    api = cluster.api
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if api.run("infringement_sweep", run_id)["state"] in ("success", "failed"):
            return None
        for ti in api.task_instances("infringement_sweep", run_id):
            if ti["task_id"].startswith("crawl_") and ti["state"] == "running" and ti.get("hostname") in WORKERS:
                proc = local.load_state(cluster.root)["processes"][ti["hostname"]]
                local.kill_tree(proc["pid"], proc["started"])
                return ti["hostname"], ti["task_id"], ti["map_index"]
        time.sleep(0.5)
    return None


def test_a_worker_killed_mid_sweep_costs_a_retry_not_data(cluster):
    before = outcome(cluster.warehouse)
    api = cluster.api
    killed = None
    for attempt in range(1, 4):  # a sweep too quick to catch a shard running: try another run
        as_of = dt.datetime.fromisoformat(cluster.manifest["as_of"]) + dt.timedelta(seconds=attempt)
        run_id = api.trigger("infringement_sweep", as_of.isoformat())
        killed = kill_a_worker_running_a_crawl_task(cluster, run_id)
        if killed:
            break
    assert killed, "three sweeps finished before a crawl task could be caught running; nothing was killed"
    state = api.wait("infringement_sweep", run_id, timeout=1500)
    if state != "success":  # the automatic retries were used up: retry the run, as an operator would
        api.clear_failed("infringement_sweep", run_id)
        state = api.wait("infringement_sweep", run_id, timeout=1500)
    assert state == "success"
    tis = {(ti["task_id"], ti["map_index"]): ti for ti in api.task_instances("infringement_sweep", run_id)}
    victim = tis[killed[1:]]
    assert victim["try_number"] >= 2 and victim["hostname"] != killed[0]
    after = outcome(cluster.warehouse)
    assert after == before  # nothing lost, nothing doubled
    conn = psycopg2.connect(cluster.warehouse)
    with conn.cursor() as cur:
        cur.execute("select count(*) - count(distinct (photo_id, page_url, image_url)) from infringement.matches")
        assert cur.fetchone()[0] == 0
        cur.execute("select count(*) - count(distinct (photo_id, infringer_domain)) from infringement.cases")
        assert cur.fetchone()[0] == 0
    conn.close()


def test_the_inspector_app_logs_in_with_its_own_role(cluster):
    """The inspector service's URL is a login role that can act only as inspector_app: it
    reads the review queue and cannot read the ledger."""
    state = local.load_state(cluster.root)
    env = local.environment_of(local.Instance("inspector", local.table.service("inspector")),
                               local.tokens(cluster.root, state["ports"], cluster.landing),
                               local.variables(local.load_secrets(cluster.root)))
    conn = psycopg2.connect(env["LIGHTBOX_INSPECTOR_DATABASE_URL"])
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("select rolsuper from pg_roles where rolname = current_user")
        assert cur.fetchone() == (False,)
        cur.execute("set role inspector_app")
        cur.execute("select count(*) from licensing.review_queue")
        assert cur.fetchone()[0] >= 0  # allowed
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("select count(*) from settlement.ledger")
    conn.close()

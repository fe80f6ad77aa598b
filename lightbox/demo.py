"""``lightbox demo`` and ``lightbox up``.

demo: start the database, seed the sample marketplace, serve the sample sites on loopback,
run every DAG once (logical date = the sample data's ``as_of``) and print what happened.
up: the Airflow UI and services, the inspector app, Data Docs and the sample sites, until
Ctrl-C.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from lightbox import db, runner
from lightbox.config import settings

# (label, SQL) pairs for the summary; a table that does not exist yet is left out.
SUMMARY_QUERIES = [
    ("landing files loaded", "raw.landing_files", "select count(*) from raw.landing_files where status <> 'skipped'"),
    ("landing rows loaded", "raw.landing_files", "select coalesce(sum(rows_loaded), 0) from raw.landing_files"),
    ("landing rows quarantined", "raw.quarantine", "select count(*) from raw.quarantine"),
    ("model versions (champion)", "licensing.model_versions",
     "select count(*) || ' (' || coalesce(max(version) filter (where is_champion), 'none') || ')' from licensing.model_versions"),
    ("photos scored", "licensing.scores", "select count(distinct photo_id) from licensing.scores"),
    ("scan decisions", "licensing.scores",
     "select coalesce(string_agg(decision || ' ' || n, ', ' order by decision), '') from "
     "(select decision, count(distinct photo_id) n from licensing.scores group by decision) d"),
    ("review queue (pending)", "licensing.review_queue",
     "select count(*) || ' (' || count(*) filter (where status = 'pending') || ')' from licensing.review_queue"),
    ("exclusivity violations", "exclusivity.violations", "select count(*) from exclusivity.violations"),
    ("photos on exclusivity hold", "exclusivity.holds", "select count(*) from exclusivity.holds"),
    ("infringement matches", "infringement.matches",
     "select coalesce(sum(n), 0) || ' (' || coalesce(string_agg(status || ' ' || n, ', ' order by status), '') || ')' from "
     "(select status, count(*) n from infringement.matches group by status) m"),
    ("infringement cases", "infringement.cases", "select count(*) from infringement.cases"),
    ("settlement lines credited", "settlement.credits", "select count(*) from settlement.credits"),
    ("photographer credits (USD)", "settlement.credits",
     "select coalesce(sum(amount_usd), 0)::text from settlement.credits"),
    ("settlement discrepancies", "settlement.discrepancies",
     "select coalesce(sum(n), 0) || ' (' || coalesce(string_agg(kind || ' ' || n, ', ' order by kind), '') || ')' from "
     "(select kind, count(*) n from settlement.discrepancies group by kind) d"),
    ("objects in regional mirrors", "replication.inventory",
     "select coalesce(sum(n), 0) || ' (' || coalesce(string_agg(region || ' ' || n, ', ' order by region), '') || ')' from "
     "(select region, count(*) n from replication.inventory group by region) r"),
    ("replication changes audited", "replication.audit_log", "select count(*) from replication.audit_log"),
    ("marts built", "marts", "select count(*) from information_schema.tables where table_schema = 'marts'"),
    ("quality suites run (failed)", "quality.results",
     "select count(*) || ' (' || count(*) filter (where not success) || ')' from quality.results"),
]


def summary_rows() -> list[tuple[str, str]]:
    out = []
    conn = db.connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for label, relation, sql in SUMMARY_QUERIES:
                if relation == "marts":
                    cur.execute("select count(*) from pg_namespace where nspname = 'marts'")
                else:
                    cur.execute("select to_regclass(%s) is not null", (relation,))
                if not cur.fetchone()[0]:
                    continue
                try:
                    cur.execute(sql)
                    out.append((label, str(cur.fetchone()[0])))
                except Exception as exc:  # noqa: BLE001 - a summary line must not break the demo
                    out.append((label, f"n/a ({exc.__class__.__name__})"))
    finally:
        conn.close()
    return out


def demo_environment(manifest: dict) -> dict[str, str]:
    """What the demo sets so that the crawler reaches its loopback sample sites."""
    env = {
        "LIGHTBOX_CRAWL_ALLOW_NETWORKS": os.environ.get("LIGHTBOX_CRAWL_ALLOW_NETWORKS") or "127.0.0.0/8",
        "LIGHTBOX_CRAWL_RESOLVE": manifest.get("crawl_resolve", ""),
        "LIGHTBOX_OWN_DOMAINS": ",".join(manifest.get("own_domains", [])),
        "LIGHTBOX_STOCK_FEEDS": manifest.get("stock_feeds", ""),
        # The demo marks the cn mirror as a region where copyright cannot be enforced.
        "LIGHTBOX_REGION_CN_ENFORCEABLE": os.environ.get("LIGHTBOX_REGION_CN_ENFORCEABLE", "false"),
    }
    return {k: v for k, v in env.items() if v}


def _seed(scale: str) -> dict:
    from lightbox.seed import generate

    landing = settings().landing
    manifest_path = landing / "_seed.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("scale") == scale:
            print(f"sample marketplace already in {landing} (scale {scale}); reusing it")
            return manifest
    print(f"seeding the sample marketplace ({scale}) into {landing} …")
    generate(str(landing), scale=scale)
    return json.loads(manifest_path.read_text())


def run_demo(scale: str = "small") -> int:
    started = time.monotonic()
    print("starting the database …")
    db.setup()
    manifest = _seed(scale)
    os.environ.update(demo_environment(manifest))
    from lightbox.sites import serve_sites

    port = int(manifest.get("sites_port", 8765))
    server, _thread = serve_sites(manifest.get("sites_dir") or str(settings().home / "sites"), port=port)
    print(f"serving the sample sites on http://127.0.0.1:{port} ({len(manifest.get('hosts', []))} hosts)")
    try:
        results = runner.run_dags(None, logical_date=manifest.get("as_of"))
    finally:
        server.shutdown()
    print()
    print(f"Lightbox demo: {time.monotonic() - started:.0f} s")
    print("-" * 60)
    for r in results:
        print(f"  {r.dag_id:<30} {r.state:<14} {r.seconds:6.1f} s")
    print("-" * 60)
    for label, value in summary_rows():
        print(f"  {label:<30} {value}")
    print("-" * 60)
    cfg = settings()
    print("Where to look next:")
    print(f"  warehouse (psql):         {db.warehouse_url()}")
    print("  Airflow UI, inspector app, Data Docs: `make up` (lightbox up), then http://localhost:8080")
    print(f"  data quality (Data Docs): {cfg.docs_dir / 'index.html'}")
    print(f"  evidence and models:      {cfg.object_store}")
    print("  where are my photos?      lightbox where-is <user_id>")
    print(f"  run logs:                 {cfg.home / 'logs' / 'lightbox-run'}")
    return runner.exit_code(results)


def up_ports(port: int = 8080, inspector_port: int | None = None, docs_port: int | None = None) -> dict[str, int]:
    """Every port ``lightbox up`` listens on, from its one ``--port``: the Airflow UI/API
    (tasks reach its execution API there), the inspector app (+10), Data Docs (+11), and
    Airflow's log servers of the scheduler's workers (+93) and the triggerer (+94), so that
    several instances on one machine each keep to a range of 100 ports. The sample sites
    listen on the port their seed was written for (``_seed.json``)."""
    return {
        "api": port,
        "inspector": inspector_port or port + 10,
        "docs": docs_port or port + 11,
        "worker_logs": int(os.environ.get("AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT") or port + 93),
        "trigger_logs": int(os.environ.get("AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT") or port + 94),
    }


def run_up(port: int = 8080, inspector_port: int | None = None, docs_port: int | None = None) -> int:
    """Airflow (api-server, scheduler, dag-processor, triggerer), the inspector app, Data Docs
    and the sample sites, until Ctrl-C."""
    from lightbox import airflow_env

    runner.prepare()
    cfg = settings()
    manifest_path = cfg.landing / "_seed.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    os.environ.update(demo_environment(manifest))
    ports = up_ports(port, inspector_port, docs_port)
    env = {
        **os.environ, **airflow_env.airflow_environment(), "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": os.environ.get("AIRFLOW__API__BASE_URL") or f"http://localhost:{port}",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(ports["worker_logs"]),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(ports["trigger_logs"]),
    }
    airflow = str(Path(sys.executable).with_name("airflow"))
    log_dir = cfg.home / "logs" / "up"
    log_dir.mkdir(parents=True, exist_ok=True)
    processes: list[tuple[str, subprocess.Popen]] = []

    def start(name: str, cmd: list[str]) -> None:
        out = open(log_dir / f"{name}.log", "ab")
        processes.append((name, subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)))

    for component in ("api-server", "scheduler", "dag-processor", "triggerer"):
        start(component, [airflow, component] + (["--port", str(port)] if component == "api-server" else []))
    inspector_port = ports["inspector"]
    start("inspector", [sys.executable, "-m", "lightbox.cli", "inspector", "serve", "--port", str(inspector_port)])
    docs_port = ports["docs"]
    docs_dir = cfg.docs_dir
    docs_dir.mkdir(parents=True, exist_ok=True)
    start("data-docs", [sys.executable, "-m", "http.server", str(docs_port), "--bind", "127.0.0.1", "--directory", str(docs_dir)])
    sites_server = None
    if manifest:
        from lightbox.sites import serve_sites

        sites_server, _ = serve_sites(manifest.get("sites_dir") or str(cfg.home / "sites"), port=int(manifest.get("sites_port", 8765)))
    print(f"Airflow UI:     http://localhost:{port}  (logs in {log_dir})")
    print(f"Inspector app:  http://localhost:{inspector_port}  (add an account: lightbox inspectors add NAME)")
    print(f"Data quality:   http://localhost:{docs_port}/  (Great Expectations Data Docs)")
    print("Ctrl-C stops everything.")

    def stop_on_sigterm(signum, frame):  # `kill`, a service manager: stop the children too
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        while True:
            for name, proc in processes:
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; see {log_dir / (name + '.log')}")
                    raise KeyboardInterrupt
            time.sleep(2)
    except KeyboardInterrupt:
        print("stopping …")
    finally:
        for _, proc in processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _, proc in processes:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        if sites_server:
            sites_server.shutdown()
    return 0

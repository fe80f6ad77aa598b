"""The crawl benchmark's web, swept by the local cluster (``lightbox cluster up``) with 1, 2
and 4 Celery workers: the ``infringement_sweep`` DAG triggered through the REST API, its
``crawl_shard`` tasks spread over the workers by Celery.

Prints JSON lines:

* ``cluster_sweep`` per worker count: pages/s, requests/s and the share of the politeness
  bound over the crawl phase (first shard start to last shard end, from the task instances),
  on which worker each shard ran, the CPU seconds of the workers, PostgreSQL and Redis over the
  phase and the machine's CPU busy share: where the time went;
* ``baseline`` = the 1-worker run (named, in the same run): speed-up of each count over it;
* ``politeness_bound``: hosts / per-host delay, no polite crawl of this web can beat it;
* ``bottleneck``: CPU, database or broker, from the figures above.

Each worker takes one task at a time (concurrency 1), so N workers crawl N shards at once; the
sweep plans 8 shards (its default). A fresh cluster per worker count.

Usage: python benchmarks/cluster.py [--hosts 64 --pages 640 --images 1280 --workers 1,2,4]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import crawl as web  # noqa: E402  (the crawl benchmark's local web and catalogue)

CLK = os.sysconf("SC_CLK_TCK")


def emit(**figures) -> None:
    print(json.dumps(figures), flush=True)


def cpu_seconds(pgids: list[int]) -> float:
    """CPU (user+system, children included) of every process in these process groups."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2:].split()
        if int(fields[2]) in pgids:
            total += sum(int(x) for x in fields[11:15]) / CLK
    return total


def machine_busy() -> tuple[float, float]:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) / CLK, idle / CLK


def run_once(n_workers: int, args, port: int) -> dict:
    from lightbox.cluster import local
    from lightbox.cluster.api import Airflow

    home = Path(tempfile.mkdtemp(prefix=f"lbbench-cluster{n_workers}-", dir="/tmp"))
    root = home / "cluster"
    env_up = {k: v for k, v in os.environ.items() if not k.startswith(local.STRIPPED_PREFIXES)}
    env_up.update({
        "LIGHTBOX_HOME": str(home), "LIGHTBOX_LANDING": str(home / "landing"),
        "LIGHTBOX_CRAWL_ALLOW_NETWORKS": "127.0.0.0/8",
        "LIGHTBOX_CRAWL_RESOLVE": ",".join(f"h{i:03d}-bench.test=127.0.0.1" for i in range(args.hosts)),
        "AIRFLOW_USE_JOB_SCHEDULE": "False", "AIRFLOW_WORKER_CONCURRENCY": "1",
    })
    try:
        up = subprocess.run([sys.executable, "-m", "lightbox.cli", "cluster", "up", "--workers", str(n_workers),
                             "--free-ports", "--dir", str(root)], env=env_up, capture_output=True, text=True)
        if up.returncode != 0:
            raise RuntimeError(up.stdout[-2000:] + up.stderr[-2000:])
        state = local.load_state(root)
        client = local.client_environment(root)
        os.environ.update(client)
        web.setup_database(catalogue_photos=8)
        web.seed_hosts(port, args.hosts)
        api = Airflow(f"http://127.0.0.1:{state['ports']['api']}", "admin",
                      local.load_secrets(root)["AIRFLOW_ADMIN_PASSWORD"])
        api.wait_for_dags(["infringement_sweep"], timeout=600)
        api.unpause("infringement_sweep")
        procs = state["processes"]
        groups = {
            "workers": [p["pid"] for n, p in procs.items() if p["service"] == "airflow-worker"],
            "postgres": [procs["postgres"]["pid"]],
            "redis": [procs["redis"]["pid"]],
            "airflow_control": [p["pid"] for n, p in procs.items()
                                if p["service"] in ("airflow-scheduler", "airflow-api-server", "airflow-dag-processor")],
        }
        cpu0 = {k: cpu_seconds(v) for k, v in groups.items()}
        m0 = machine_busy()
        run_id = api.trigger("infringement_sweep", dt.datetime.now(dt.timezone.utc).isoformat(), conf={"max_shards": 8})
        state_ = api.wait("infringement_sweep", run_id, timeout=3600, poll=2)
        m1 = machine_busy()
        cpu1 = {k: cpu_seconds(v) for k, v in groups.items()}
        tis = [ti for ti in api.task_instances("infringement_sweep", run_id) if ti["task_id"] == "crawl_shard"]
        pages = images = 0
        for ti in tis:
            xcom = api.request("GET", f"/dags/infringement_sweep/dagRuns/{run_id}/taskInstances/crawl_shard/xcomEntries/"
                               f"return_value", params={"map_index": ti["map_index"]})
            value = xcom.get("value") or {}
            if isinstance(value, str):
                value = json.loads(value)
            if isinstance(value, dict) and "__data__" in value:  # serde's envelope
                value = value["__data__"]
            pages += value.get("pages_fetched", 0)
            images += value.get("images_fetched", 0)
        starts = [dt.datetime.fromisoformat(ti["start_date"]) for ti in tis if ti.get("start_date")]
        ends = [dt.datetime.fromisoformat(ti["end_date"]) for ti in tis if ti.get("end_date")]
        wall = (max(ends) - min(starts)).total_seconds()
        elapsed = m1[0] - m0[0]
        busy = 1 - (m1[1] - m0[1]) / max(1e-9, elapsed)
        return {
            "state": state_, "shards": len(tis), "shards_per_worker": {
                h: sum(1 for ti in tis if ti["hostname"] == h) for h in sorted({ti["hostname"] for ti in tis})},
            "pages_fetched": pages, "images_fetched": images, "crawl_wall_s": round(wall, 1),
            "pages_per_s": round(pages / wall, 2), "requests_per_s": round((pages + images) / wall, 2),
            "cpu_s": {k: round(cpu1[k] - cpu0[k], 1) for k in groups},
            "machine_cpu_busy_share": round(busy, 3),
        }
    finally:
        for key in list(os.environ):
            if key.startswith(local.STRIPPED_PREFIXES):
                os.environ.pop(key)
        local.down(root, purge=True, echo=lambda *_: None)
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=64)
    parser.add_argument("--pages", type=int, default=640)
    parser.add_argument("--images", type=int, default=1280)
    parser.add_argument("--distinct-images", type=int, default=200)
    parser.add_argument("--planted-every", type=int, default=500)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()

    from lightbox.crawl.fetch import CrawlConfig

    config = CrawlConfig()
    parent, child = mp.Pipe()
    server = mp.get_context("fork").Process(
        target=web.serve, args=(child, args.hosts, args.pages, args.images, args.distinct_images, args.planted_every),
        daemon=True)
    server.start()
    port = parent.recv()
    bound = args.hosts / config.per_host_delay
    emit(figure="politeness_bound", max_requests_per_s=bound, hosts=args.hosts,
         per_host_delay_s=config.per_host_delay, note="hosts / per-host delay: no polite crawl of this web can beat it")
    results = {}
    try:
        for n in (int(w) for w in args.workers.split(",")):
            r = run_once(n, args, port)
            results[n] = r
            base = results.get(min(results))
            emit(figure="cluster_sweep", workers=n, hosts=args.hosts, **r,
                 share_of_politeness_bound=round(r["requests_per_s"] / bound, 3),
                 speedup_vs_baseline_1_worker=round(r["pages_per_s"] / base["pages_per_s"], 2),
                 cpu_count=os.cpu_count())
    finally:
        server.terminate()
    if results:
        base = results[min(results)]
        emit(figure="baseline", name="1 Celery worker", workers=min(results), pages_per_s=base["pages_per_s"])
        top = results[max(results)]
        cpu = top["cpu_s"]
        total = sum(cpu.values()) or 1e-9
        if top["machine_cpu_busy_share"] > 0.85:
            where = "CPU"
        elif cpu["postgres"] / total > 0.4:
            where = "database"
        elif cpu["redis"] / total > 0.2:
            where = "broker"
        else:
            where = "politeness (waiting on per-host delays)"
        emit(figure="bottleneck", at_workers=max(results), where=where,
             machine_cpu_busy_share=top["machine_cpu_busy_share"],
             cpu_share={k: round(v / total, 3) for k, v in cpu.items()},
             note="CPU seconds over the sweep run by process group; busy share of all cores over the same span")
    return 0


if __name__ == "__main__":
    sys.exit(main())

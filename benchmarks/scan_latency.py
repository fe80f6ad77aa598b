"""How long a photographer waits for the AI scan: from a submission file landing to its score
(and, when it passes, its row in ``licensing.review_queue``), under ``lightbox up``.

Two stacks run side by side, each a real ``lightbox up`` (api-server, scheduler,
dag-processor, triggerer, LocalExecutor) with its own ``LIGHTBOX_HOME``, embedded PostgreSQL
and ports:

- ``event``: this code: ``ingest_landing`` started by the landing folder's AssetWatcher,
  ``licensing_score_submissions`` by the ``lightbox.raw`` Asset;
- ``baseline``: today's schedules: the code of ``--baseline-commit`` (exported with
  ``git archive``), ``ingest_landing`` every 15 minutes, ``licensing_score_submissions``
  every 5 minutes.

Each stack gets the small sample marketplace and a trained champion first (``lightbox run``).
Then ``--files`` one-row photo files (submitted for licensing, cloned from random sample
photos, ``uploaded_at`` = the moment they land) are dropped into both landing folders at
the same random moments over ``--window`` seconds (written to a temporary name, then renamed,
as a producer should). Each stack's warehouse is polled every ``--poll`` seconds; a file's
latency is the time from its rename to its ``licensing.scores`` row (written in the same
transaction as its queue row). Only the two DAGs of the path are unpaused, in both stacks.

Prints JSON lines: setup, one line per phase (p50, p95, max; event phase with target
p95 <= 60 s), the steps of the event phase, and the ratio of the two.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import emit  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TARGET_P95_S = 60.0
PATH_DAGS = ("ingest_landing", "licensing_score_submissions")


@dataclass
class Stack:
    phase: str
    code: Path  # the repository whose code runs
    home: Path
    port: int  # Airflow UI/API; inspector +10, Data Docs +11
    log_ports: tuple[int, int]
    sites_port: int
    proc: subprocess.Popen | None = None
    warehouse: str = ""
    metadata: str = ""
    dropped: dict = field(default_factory=dict)  # photo_id -> drop time (epoch s)
    seen: dict = field(default_factory=dict)  # photo_id -> (epoch s, decision, queued)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LIGHTBOX_"))}
        env.update({
            "PYTHONPATH": str(self.code),
            "LIGHTBOX_HOME": str(self.home),
            "AIRFLOW__API__BASE_URL": f"http://localhost:{self.port}",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self.log_ports[0]),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(self.log_ports[1]),
        })
        return env

    def cli(self, *args: str, check: bool = True, timeout: float = 1800) -> str:
        proc = subprocess.run([PYTHON, "-m", "lightbox.cli", *args], env=self.env(), cwd=self.home,
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError(f"[{self.phase}] lightbox {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return proc.stdout

    def python(self, code: str) -> str:
        proc = subprocess.run([PYTHON, "-c", code], env=self.env(), cwd=self.home, capture_output=True, text=True,
                              timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"[{self.phase}] python failed:\n{proc.stderr[-3000:]}")
        return proc.stdout

    @property
    def landing(self) -> Path:
        return self.home / "landing"


def prepare(stack: Stack) -> dict:
    """Sample marketplace, warehouse, Airflow metadata, a champion model, the backlog scored."""
    stack.home.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    stack.python(
        "from lightbox.seed import generate; import os; "
        f"generate(os.path.join(os.environ['LIGHTBOX_HOME'], 'landing'), scale='small', sites_port={stack.sites_port})"
    )
    as_of = json.loads((stack.landing / "_seed.json").read_text())["as_of"]
    stack.cli("run", "ingest_landing", "licensing_train_model", "licensing_score_submissions", "--logical-date", as_of)
    stack.warehouse = stack.cli("db", "url").strip().splitlines()[-1]
    stack.metadata = stack.cli("db", "url", "--database", "airflow").strip().splitlines()[-1]
    return {"seconds": round(time.monotonic() - started, 1)}


def start(stack: Stack) -> None:
    log = open(stack.home / "up.out", "ab")
    stack.proc = subprocess.Popen([PYTHON, "-m", "lightbox.cli", "up", "--port", str(stack.port)], env=stack.env(),
                                  cwd=stack.home, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop(stack: Stack) -> None:
    if stack.proc and stack.proc.poll() is None:
        try:
            os.killpg(stack.proc.pid, signal.SIGTERM)
            stack.proc.wait(timeout=60)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(stack.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    stack.cli("db", "stop", check=False, timeout=120)


def _connect(url: str):
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    return conn


def _wait(what: str, check, timeout: float, every: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(every)
    raise TimeoutError(f"timed out waiting for {what}")


def _healthy(port: int) -> bool:
    with urllib.request.urlopen(f"http://localhost:{port}/api/v2/monitor/health", timeout=5) as r:
        return r.status == 200


def _metadata_one(stack: Stack, sql: str, params=()):
    conn = _connect(stack.metadata)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone()
    finally:
        conn.close()


def ready(stack: Stack, event_driven: bool) -> None:
    """Services up, both DAGs parsed and unpaused, the watcher's trigger running, no run
    in flight."""
    _wait(f"{stack.phase} api-server", lambda: _healthy(stack.port), 300)
    _wait(f"{stack.phase} DAGs parsed", lambda: _metadata_one(
        stack, "select count(*) from dag where dag_id = any(%s) and is_stale is not true", (list(PATH_DAGS),))[0] == 2, 300)
    for dag_id in PATH_DAGS:
        stack.python(
            "from lightbox import airflow_env; import sys; "
            f"r = airflow_env.airflow_command('dags', 'unpause', '{dag_id}', capture_output=True, text=True); "
            "sys.exit(r.returncode)"
        )
    if event_driven:
        _wait(f"{stack.phase} landing trigger", lambda: _metadata_one(
            stack, "select count(*) from trigger where classpath like %s and triggerer_id is not null",
            ("%LandingFilesTrigger",))[0] >= 1, 300)
    time.sleep(10)
    try:  # the runs that unpausing started (the latest cron interval; the watcher's start event)
        _wait(f"{stack.phase} idle", lambda: _metadata_one(
            stack, "select count(*) from dag_run where state in ('queued', 'running')")[0] == 0, 180)
    except TimeoutError:
        pass  # a busy machine: start anyway, the runs in flight are part of what a submission meets


def templates(landing: Path) -> tuple[list[str], list[dict]]:
    """Sample photos of known owners with images in the landing folder, to clone."""
    with open(landing / "photos" / "photos_0001.csv", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = [r for r in reader if r["image_path"].startswith("images/") and (landing / r["image_path"]).exists()
                and not r["deleted_at"] and r["removed_from_licensing"] != "true"]
        return reader.fieldnames, rows


def drop(stack: Stack, photo_id: str, header: list[str], template: dict) -> None:
    now = datetime.now(timezone.utc).isoformat()
    row = dict(template, photo_id=photo_id, uploaded_at=now, updated_at=now, submitted_for_licensing="true",
               removed_from_licensing="false", sha256="")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    folder = stack.landing / "photos"
    tmp = folder / f".{photo_id}.tmp"
    tmp.write_text(out.getvalue())
    os.rename(tmp, folder / f"submission_{photo_id}.csv")
    stack.dropped[photo_id] = time.time()


def poll(stack: Stack, conn) -> None:
    waiting = [p for p in stack.dropped if p not in stack.seen]
    if not waiting:
        return
    with conn.cursor() as cur:
        cur.execute(
            """select s.photo_id, s.decision, q.photo_id is not null from licensing.scores as s
               left join licensing.review_queue as q on q.photo_id = s.photo_id where s.photo_id = any(%s)""",
            (waiting,),
        )
        rows = cur.fetchall()
    now = time.time()
    for photo_id, decision, queued in rows:
        stack.seen.setdefault(photo_id, (now, decision, queued))


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def phase_figures(stack: Stack, schedules: str) -> dict:
    latencies = [stack.seen[p][0] - t for p, t in stack.dropped.items() if p in stack.seen]
    decisions: dict[str, int] = {}
    for _, decision, _ in stack.seen.values():
        decisions[decision] = decisions.get(decision, 0) + 1
    unscored = len(stack.dropped) - len(latencies)
    figures = {
        "benchmark": "scan_latency", "figure": "latency", "phase": stack.phase, "schedules": schedules,
        "files": len(stack.dropped), "scored": len(latencies), "unscored_at_end": unscored,
        "queued": sum(1 for v in stack.seen.values() if v[2]), "decisions": decisions,
    }
    if latencies:
        figures.update({
            "p50_s": round(percentile(latencies, 50), 1), "p95_s": round(percentile(latencies, 95), 1),
            "max_s": round(max(latencies), 1), "mean_s": round(statistics.fmean(latencies), 1),
        })
    return figures


def event_steps(stack: Stack) -> dict:
    """Where the event phase's time went: landing to loaded (raw.photos_history._arrived_at,
    the load's transaction time), loaded to scored, and the Airflow runs' own durations."""
    conn = _connect(stack.warehouse)
    with conn.cursor() as cur:
        cur.execute("select photo_id, extract(epoch from min(_arrived_at)) from raw.photos_history "
                    "where photo_id = any(%s) group by photo_id", (list(stack.dropped),))
        arrived = dict(cur.fetchall())
    conn.close()
    to_loaded = [float(arrived[p]) - t for p, t in stack.dropped.items() if p in arrived]
    to_scored = [stack.seen[p][0] - float(arrived[p]) for p in stack.seen if p in arrived]
    meta = _connect(stack.metadata)
    with meta.cursor() as cur:
        cur.execute(
            """select dag_id, percentile_cont(0.5) within group (order by extract(epoch from end_date - start_date)),
                      percentile_cont(0.5) within group (order by extract(epoch from start_date - queued_at)), count(*)
               from dag_run where run_type = 'asset_triggered' and end_date is not null and dag_id = any(%s)
               group by dag_id""", (list(PATH_DAGS),))
        runs = {d: {"median_run_s": round(r, 1), "median_start_delay_s": round(s or 0, 1), "runs": n}
                for d, r, s, n in cur.fetchall()}
        cur.execute(
            """select ti.dag_id || '.' || ti.task_id, percentile_cont(0.5) within group (order by ti.duration),
                      percentile_cont(0.5) within group (order by extract(epoch from ti.start_date - ti.queued_dttm))
               from task_instance as ti join dag_run as dr on dr.dag_id = ti.dag_id and dr.run_id = ti.run_id
               where dr.run_type = 'asset_triggered' and ti.duration is not null and ti.dag_id = any(%s)
               group by 1 order by 1""", (list(PATH_DAGS),))
        tasks = {t: {"median_s": round(d, 2), "median_queued_s": round(q or 0, 2)} for t, d, q in cur.fetchall()}
    meta.close()
    return {
        "benchmark": "scan_latency", "figure": "event_steps", "phase": stack.phase,
        "landing_to_loaded_p50_s": round(percentile(to_loaded, 50), 1) if to_loaded else None,
        "landing_to_loaded_p95_s": round(percentile(to_loaded, 95), 1) if to_loaded else None,
        "loaded_to_scored_p50_s": round(percentile(to_scored, 50), 1) if to_scored else None,
        "loaded_to_scored_p95_s": round(percentile(to_scored, 95), 1) if to_scored else None,
        "dag_runs": runs, "tasks": tasks,
    }


def export_baseline(commit: str, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=100)
    ap.add_argument("--window", type=float, default=600.0, help="seconds over which the files are dropped")
    ap.add_argument("--event-drain", type=float, default=300.0, help="seconds to wait after the last drop (event)")
    ap.add_argument("--baseline-drain", type=float, default=1320.0,
                    help="seconds to wait after the last drop (baseline; a 15-minute ingest then a 5-minute scan)")
    ap.add_argument("--baseline-commit", default="00c8a20", help="the code with today's schedules")
    ap.add_argument("--phases", default="event,baseline")
    ap.add_argument("--port", type=int, default=19000, help="first port of the range (100 ports)")
    ap.add_argument("--poll", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=20)
    ap.add_argument("--keep", action="store_true", help="keep the stacks' homes")
    ap.add_argument("--raw-out", help="write every file's drop and score time here (JSON)")
    args = ap.parse_args()

    phases = args.phases.split(",")
    work = Path(tempfile.mkdtemp(prefix="lbsl-", dir="/tmp"))  # short: the database socket lives in it
    p = args.port
    stacks: list[Stack] = []
    if "event" in phases:
        stacks.append(Stack("event", REPO, work / "ev", p, (p + 93, p + 94), p + 70))
    if "baseline" in phases:
        code = export_baseline(args.baseline_commit, work / "baseline-code")
        stacks.append(Stack("baseline", code, work / "bl", p + 50, (p + 95, p + 96), p + 71))
    rng = random.Random(args.seed)
    offsets = sorted(rng.uniform(0, args.window) for _ in range(args.files))
    load_before = os.getloadavg()
    try:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(len(stacks)) as pool:  # the stacks are independent: prepare both at once
            setup = dict(zip([s.phase for s in stacks], pool.map(prepare, stacks)))
        for stack in stacks:
            start(stack)
        for stack in stacks:
            ready(stack, event_driven=stack.phase == "event")
        header, rows = templates(stacks[0].landing)
        picks = [rng.choice(rows) for _ in offsets]
        emit(benchmark="scan_latency", figure="setup", files=args.files, window_s=args.window, phases=phases,
             baseline_commit=args.baseline_commit if "baseline" in phases else None, cpus=os.cpu_count(),
             loadavg_before=[round(x, 2) for x in load_before], prepare_s={k: v["seconds"] for k, v in setup.items()},
             dags_unpaused=list(PATH_DAGS), seed=args.seed,
             started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        conns = {s.phase: _connect(s.warehouse) for s in stacks}
        t0 = time.time()
        i = 0
        drains = {"event": args.event_drain, "baseline": args.baseline_drain}
        end = t0 + args.window + max(drains[s.phase] for s in stacks)
        loads = []
        while time.time() < end:
            now = time.time()
            while i < len(offsets) and now - t0 >= offsets[i]:
                for stack in stacks:
                    drop(stack, f"sl{i:04d}", header, picks[i])
                i += 1
            for stack in stacks:
                if now < t0 + args.window + drains[stack.phase]:
                    poll(stack, conns[stack.phase])
            if i == len(offsets) and all(len(s.seen) == len(s.dropped) for s in stacks):
                break
            if int(now - t0) % 30 == 0:
                loads.append(os.getloadavg()[0])
            time.sleep(args.poll)
        if args.raw_out:  # every file's drop and score time, to recompute or plot the figures
            Path(args.raw_out).write_text(json.dumps({s.phase: {"dropped": s.dropped, "seen": s.seen} for s in stacks}))
        results = {}
        for stack in stacks:
            schedules = ("ingest_landing: AssetWatcher on the landing folder (+ */15 cron); "
                         "licensing_score_submissions: Asset lightbox.raw (+ */30 cron)") if stack.phase == "event" else (
                "ingest_landing: */15 cron; licensing_score_submissions: */5 cron (today's schedules)")
            figures = phase_figures(stack, schedules)
            if stack.phase == "event":
                figures.update(target="p95 <= 60 s", meets_target=bool(figures.get("p95_s") is not None
                                                                       and figures["p95_s"] <= TARGET_P95_S
                                                                       and figures["unscored_at_end"] == 0))
            results[stack.phase] = figures
            emit(**figures)
        if "event" in results:
            try:
                emit(**event_steps(next(s for s in stacks if s.phase == "event")))
            except Exception as exc:  # noqa: BLE001 - the breakdown must not lose the latencies above
                emit(benchmark="scan_latency", figure="event_steps", error=repr(exc))
        if len(results) == 2 and results["event"].get("p50_s") and results["baseline"].get("p50_s"):
            emit(benchmark="scan_latency", figure="comparison",
                 p50_ratio_baseline_over_event=round(results["baseline"]["p50_s"] / results["event"]["p50_s"], 1),
                 p95_ratio_baseline_over_event=round(results["baseline"]["p95_s"] / results["event"]["p95_s"], 1),
                 loadavg_median_during=round(statistics.median(loads), 2) if loads else None,
                 loadavg_max_during=round(max(loads), 2) if loads else None)
    finally:
        for stack in stacks:
            stop(stack)
        if not args.keep:
            subprocess.run(["rm", "-rf", str(work)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Inspector queue benchmark: claim-and-decide operations per second with N concurrent
clients (default 20, each its own connection) against the real PostgreSQL, with p50/p99
latency of one operation (claim the next photo + record a decision, two transactions).

Methods, all measured in the same run on the same seeded queue (reset between methods):
  skip_locked        the app's code (lightbox.inspector.queue.claim_next + decide):
                     ``select … for update skip locked`` in an update
  for_update         baseline: the same without SKIP LOCKED; clients queue behind the top
                     row's lock and, once it is taken, get no row and retry
  select_then_update baseline: a naive unlocked select of the top pending row, then a
                     conditional update; a lost race retries
  api_skip_locked_*  (unless --no-api) the whole stack: uvicorn (its own process) + the JSON
                     API (/api/claim-next + /api/decide, session + CSRF) with N httpx clients,
                     saturated (closed loop) and paced (--api-rate operations/s per client)

Prints one JSON object per figure. The database is a scratch database on the configured
server (LIGHTBOX_DATABASE_URL's server, else the embedded one of LIGHTBOX_HOME), dropped at
the end. With neither variable set it starts an embedded server in a temporary home (so it
never touches a developer's ./.lightbox) and stops it afterwards.

    .venv/bin/python benchmarks/inspector.py [--clients 20] [--seconds 10] [--photos 30000]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lightbox import db, schema  # noqa: E402
from lightbox.inspector import queue as q  # noqa: E402

SCRATCH_DB = "lightbox_bench_inspector"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def scratch_database() -> str:
    admin = db.connect(db._with_database(db.server_url("postgres"), "postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'drop database if exists "{SCRATCH_DB}" with (force)')
        cur.execute(f'create database "{SCRATCH_DB}"')
    admin.close()
    url = db._with_database(db.server_url("postgres"), SCRATCH_DB)
    schema.apply_schema(url)
    return url


def drop_scratch() -> None:
    admin = db.connect(db._with_database(db.server_url("postgres"), "postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'drop database if exists "{SCRATCH_DB}" with (force)')
    admin.close()


def seed(url: str, photos: int) -> None:
    conn = db.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute(
            """
            insert into raw.photos (photo_id, owner_id, title, category, image_path, _file_id, _line, _arrived_at)
            select 'p' || lpad(g::text, 7, '0'), 'u' || (g %% 500), 'photo ' || g,
                   (array['nature','city','people','food'])[1 + g %% 4], 'images/x.jpg', 1, g, now()
              from generate_series(1, %(n)s) g
            """,
            {"n": photos},
        )
        cur.execute(
            """
            insert into licensing.scores (photo_id, model_version, p_suitable, p_sale, decision, reasons, scored_at)
            select 'p' || lpad(g::text, 7, '0'), 'v1', random(), random(), 'under_review', '[]', now()
              from generate_series(1, %(n)s) g
            """,
            {"n": photos},
        )
        cur.execute(
            """
            insert into licensing.review_queue (photo_id, priority, status, model_version, enqueued_at)
            select 'p' || lpad(g::text, 7, '0'), random(), 'pending', 'v1', now() - random() * interval '30 days'
              from generate_series(1, %(n)s) g
            """,
            {"n": photos},
        )
    conn.close()


def reset(url: str) -> None:
    conn = db.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("""update licensing.review_queue set status = 'pending', claimed_by = null, claimed_at = null,
                       decision = null, decision_reason = null, decided_at = null where status <> 'pending'""")
        cur.execute("truncate licensing.decisions")
    conn.close()
    conn = db.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("vacuum analyze licensing.review_queue")
        cur.execute("vacuum analyze licensing.decisions")
    conn.close()


# --------------------------------------------------------------------------- baselines

def claim_for_update(conn, inspector: str):
    """Baseline: FOR UPDATE without SKIP LOCKED. Returns (photo_id | None, retries)."""
    retries = 0
    while True:
        with conn, conn.cursor() as cur:
            cur.execute(
                """
                with next as (
                    select photo_id from licensing.review_queue
                     where status = 'pending' order by priority desc, enqueued_at, photo_id limit 1
                       for update)
                update licensing.review_queue r set status = 'claimed', claimed_by = %s, claimed_at = now()
                  from next where r.photo_id = next.photo_id returning r.photo_id
                """,
                (inspector,),
            )
            row = cur.fetchone()
            if row:
                return row[0], retries
            cur.execute("select exists (select 1 from licensing.review_queue where status = 'pending')")
            if not cur.fetchone()[0]:
                return None, retries
        retries += 1


def claim_select_then_update(conn, inspector: str):
    """Baseline: read the top pending row without a lock, then try to take it."""
    retries = 0
    while True:
        with conn, conn.cursor() as cur:
            cur.execute("""select photo_id from licensing.review_queue where status = 'pending'
                            order by priority desc, enqueued_at, photo_id limit 1""")
            row = cur.fetchone()
            if row is None:
                return None, retries
            cur.execute("""update licensing.review_queue set status = 'claimed', claimed_by = %s, claimed_at = now()
                            where photo_id = %s and status = 'pending'""", (inspector, row[0]))
            if cur.rowcount == 1:
                return row[0], retries
        retries += 1


def claim_skip_locked(conn, inspector: str):
    claim = q.claim_next(conn, inspector)
    return (claim.photo_id if claim else None), 0


METHODS = {
    "skip_locked": claim_skip_locked,
    "for_update": claim_for_update,
    "select_then_update": claim_select_then_update,
}


def run_db_method(url: str, method: str, clients: int, seconds: float) -> dict:
    claim = METHODS[method]
    barrier = threading.Barrier(clients + 1)
    stop = threading.Event()
    latencies: list[list[float]] = [[] for _ in range(clients)]
    retries = [0] * clients
    errors: list[str] = []

    def worker(i: int) -> None:
        name = f"bench{i:02d}"
        conn = db.connect(url)
        try:
            barrier.wait()
            while not stop.is_set():
                t0 = time.perf_counter()
                photo_id, r = claim(conn, name)
                if photo_id is None:
                    return
                q.decide(conn, name, photo_id, "accepted")
                latencies[i].append(time.perf_counter() - t0)
                retries[i] += r
        except Exception as exc:  # noqa: BLE001 - reported in the output
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return _figure(url, method, clients, elapsed, [x for lat in latencies for x in lat], sum(retries), errors)


def _figure(url, method, clients, elapsed, lats, retries, errors) -> dict:
    conn = db.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("select count(*), count(distinct photo_id) from licensing.decisions")
        decided, distinct = cur.fetchone()
    conn.close()
    return {
        "benchmark": "inspector", "figure": "claim_and_decide", "method": method, "clients": clients,
        "ops": len(lats), "seconds": round(elapsed, 2), "ops_per_s": round(len(lats) / elapsed, 1),
        "p50_ms": round(percentile(lats, 50) * 1000, 2), "p99_ms": round(percentile(lats, 99) * 1000, 2),
        "mean_ms": round(statistics.fmean(lats) * 1000, 2) if lats else None,
        "retries": retries, "decisions": decided, "claimed_twice": decided - distinct, "errors": len(errors),
        **({"first_error": errors[0]} if errors else {}),
    }


# --------------------------------------------------------------------------- through the API

def run_api(url: str, clients: int, seconds: float, workers: int = 1, rate: float | None = None) -> dict:
    """Through uvicorn and the JSON API. ``rate``: each client paces itself to that many
    operations per second (an open loop; latency counts from the scheduled start, so a
    backlog shows); None: as fast as it can (a closed loop, the saturation figure)."""
    import httpx

    from lightbox.inspector import accounts

    conn = db.connect(url)
    password = "benchmark password"
    for i in range(clients):
        accounts.add_inspector(conn, f"api{i:02d}", password)
    conn.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # The server in its own process, as in production: the clients' threads do not share its GIL.
    from lightbox.inspector.pool import inspector_url

    env = {**os.environ, "LIGHTBOX_INSPECTOR_DATABASE_URL": inspector_url(url),  # the app's own login role
           "LIGHTBOX_INSPECTOR_POOL": str(clients + 4)}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "lightbox.inspector.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--workers", str(workers)],
        env=env, cwd=str(Path(__file__).resolve().parent.parent))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("the inspector app did not start")
            time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        sessions = []
        for i in range(clients):
            c = httpx.Client(base_url=base, timeout=30)
            r = c.post("/api/login", json={"name": f"api{i:02d}", "password": password})
            r.raise_for_status()
            sessions.append((c, {"X-CSRF-Token": r.json()["csrf_token"]}))
        barrier = threading.Barrier(clients + 1)
        stop = threading.Event()
        latencies: list[list[float]] = [[] for _ in range(clients)]
        errors: list[str] = []

        def worker(i: int) -> None:
            c, h = sessions[i]
            try:
                barrier.wait()
                scheduled = time.perf_counter() + (i / clients / rate if rate else 0)
                while not stop.is_set():
                    if rate:
                        time.sleep(max(0.0, scheduled - time.perf_counter()))
                        t0 = scheduled
                        scheduled += 1 / rate
                    else:
                        t0 = time.perf_counter()
                    r = c.post("/api/claim-next", headers=h)
                    r.raise_for_status()
                    pid = r.json()["photo_id"]
                    if pid is None:
                        return
                    r = c.post("/api/decide", headers=h, json={"photo_id": pid, "decision": "accepted"})
                    r.raise_for_status()
                    latencies[i].append(time.perf_counter() - t0)
            except Exception as exc:  # noqa: BLE001
                errors.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        barrier.wait()
        t0 = time.perf_counter()
        time.sleep(seconds)
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        for c, _ in sessions:
            c.close()
    finally:
        server.terminate()
        server.wait(30)
    method = f"api_skip_locked_{workers}worker" + (f"_paced_{rate:g}_per_s_per_client" if rate else "_saturated")
    figure = _figure(url, method, clients, elapsed, [x for lat in latencies for x in lat], 0, errors)
    if rate:
        figure["offered_ops_per_s"] = round(rate * clients, 1)
    return figure


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0, help="per method")
    parser.add_argument("--photos", type=int, default=30000, help="queued photos (enough not to run dry)")
    parser.add_argument("--no-api", action="store_true", help="skip the through-the-API figure")
    parser.add_argument("--api-workers", type=int, default=1, help="uvicorn worker processes for the API figure")
    parser.add_argument("--api-rate", type=float, default=2.0,
                        help="operations per second per client for the paced API figure (a brisk inspector: 1 per 0.5 s)")
    args = parser.parse_args(argv)
    os.environ.setdefault("LIGHTBOX_CLAIM_TTL_MINUTES", "30")
    own_home = None
    if not os.environ.get("LIGHTBOX_DATABASE_URL") and not os.environ.get("LIGHTBOX_HOME"):
        own_home = tempfile.mkdtemp(prefix="lbb-", dir="/tmp")  # short: the socket lives here
        os.environ["LIGHTBOX_HOME"] = own_home
        os.chmod(own_home, 0o755)
    url = scratch_database()
    try:
        seed(url, args.photos)
        print(json.dumps({"benchmark": "inspector", "figure": "setup", "photos": args.photos, "clients": args.clients,
                          "seconds_per_method": args.seconds, "cpus": os.cpu_count()}), flush=True)
        results = {}
        for method in ("skip_locked", "for_update", "select_then_update"):
            reset(url)
            results[method] = run_db_method(url, method, args.clients, args.seconds)
            print(json.dumps(results[method]), flush=True)
        if not args.no_api:
            reset(url)
            results["api"] = run_api(url, args.clients, args.seconds, workers=args.api_workers)
            print(json.dumps(results["api"]), flush=True)
            reset(url)
            results["api_paced"] = run_api(url, args.clients, args.seconds, workers=args.api_workers,
                                           rate=args.api_rate)
            print(json.dumps(results["api_paced"]), flush=True)
        sk = results["skip_locked"]
        for baseline in ("for_update", "select_then_update"):
            b = results[baseline]
            print(json.dumps({
                "benchmark": "inspector", "figure": "ratio", "method": "skip_locked", "baseline": baseline,
                "throughput_ratio": round(sk["ops_per_s"] / b["ops_per_s"], 2) if b["ops_per_s"] else None,
                "p99_ratio": round(b["p99_ms"] / sk["p99_ms"], 2) if sk["p99_ms"] else None,
            }), flush=True)
        print(json.dumps({"benchmark": "inspector", "figure": "target", "target_p99_ms": 100,
                          "skip_locked_p99_ms": sk["p99_ms"], "met": sk["p99_ms"] <= 100,
                          **({"api_saturated_p99_ms": results["api"]["p99_ms"],
                              "api_paced_p99_ms": results["api_paced"]["p99_ms"],
                              "api_paced_met": results["api_paced"]["p99_ms"] <= 100}
                             if "api" in results else {})}), flush=True)
    finally:
        drop_scratch()
        if own_home:
            db.stop()
            shutil.rmtree(own_home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

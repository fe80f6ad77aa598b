"""``lightbox up``: the Airflow services, the inspector app, Data Docs and the sample sites as
local processes, until Ctrl-C or SIGTERM, and then none of them left.

Each service starts in a process group of its own (``start_new_session``), so a Ctrl-C in the
terminal reaches only ``up``, which then stops every group in order: SIGTERM to each group,
a grace period, SIGKILL to whatever is left. The supervisor also keeps a list of every
descendant it has seen (Airflow's scheduler forks LocalExecutor workers, the api-server its
own workers), so that a process that left its group, or whose parent died first, is stopped
all the same instead of living on, orphaned, with connections to the database.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

GRACE_S = 20.0


class Supervisor:
    """Child processes and every descendant seen, stopped together."""

    def __init__(self, env: dict, log_dir: Path):
        self.env, self.log_dir = env, log_dir
        self.children: list[tuple[str, subprocess.Popen]] = []
        self._seen: dict[int, object] = {}  # pid -> psutil.Process (pid and start time)

    def start(self, name: str, cmd: list[str]) -> subprocess.Popen:
        out = open(self.log_dir / f"{name}.log", "ab")
        proc = subprocess.Popen(cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()  # the child holds its own copy
        self.children.append((name, proc))
        self.track()
        return proc

    def track(self) -> None:
        """Note every live descendant (call it now and then: an orphan is found only while
        its parent lives)."""
        import psutil

        for _, proc in self.children:
            try:
                root = psutil.Process(proc.pid)
                for p in [root, *root.children(recursive=True)]:
                    self._seen.setdefault(p.pid, p)
            except psutil.NoSuchProcess:
                continue

    def exited(self) -> tuple[str, int] | None:
        for name, proc in self.children:
            if proc.poll() is not None:
                return name, proc.returncode
        return None

    def _alive(self) -> list:
        return [p for p in self._seen.values() if p.is_running() and p.status() != "zombie"]

    def stop(self, grace_s: float = GRACE_S) -> None:
        import psutil

        self.track()
        for _, proc in self.children:
            _signal_group(proc.pid, signal.SIGTERM)
        for p in self._alive():
            _signal(p, signal.SIGTERM)
        _, alive = psutil.wait_procs(self._alive(), timeout=grace_s)
        for _, proc in self.children:
            _signal_group(proc.pid, signal.SIGKILL)
        for p in alive:
            _signal(p, signal.SIGKILL)
        psutil.wait_procs(self._alive(), timeout=5)
        for _, proc in self.children:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _signal(process, signum: int) -> None:
    import psutil

    try:
        process.send_signal(signum)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        pass


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
    and the sample sites, until Ctrl-C or SIGTERM."""
    from lightbox import airflow_env, runner
    from lightbox.config import settings
    from lightbox.demo import demo_environment

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
    supervisor = Supervisor(env, log_dir)

    def stop_on_sigterm(signum, frame):  # `kill`, a service manager: stop the children too
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_sigterm)
    sites_server = None
    try:
        for component in ("api-server", "scheduler", "dag-processor", "triggerer"):
            supervisor.start(component, [airflow, component] + (["--port", str(port)] if component == "api-server" else []))
        inspector_port = ports["inspector"]
        supervisor.start("inspector", [sys.executable, "-m", "lightbox.cli", "inspector", "serve", "--port", str(inspector_port)])
        docs_port = ports["docs"]
        cfg.docs_dir.mkdir(parents=True, exist_ok=True)
        supervisor.start("data-docs", [sys.executable, "-m", "http.server", str(docs_port), "--bind", "127.0.0.1",
                                       "--directory", str(cfg.docs_dir)])
        if manifest:
            from lightbox.sites import serve_sites

            sites_server, _ = serve_sites(manifest.get("sites_dir") or str(cfg.home / "sites"),
                                          port=int(manifest.get("sites_port", 8765)))
        print(f"Airflow UI:     http://localhost:{port}  (logs in {log_dir})")
        print(f"Inspector app:  http://localhost:{inspector_port}  (add an account: lightbox inspectors add NAME)")
        print(f"Data quality:   http://localhost:{docs_port}/  (Great Expectations Data Docs)")
        print("Ctrl-C stops everything.", flush=True)
        while True:
            gone = supervisor.exited()
            if gone:
                print(f"{gone[0]} exited with {gone[1]}; see {log_dir / (gone[0] + '.log')}")
                break
            supervisor.track()
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the clean-up short
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("stopping …", flush=True)
        supervisor.stop()
        if sites_server:
            sites_server.shutdown()
        print("stopped.", flush=True)
    return 0

"""``lightbox cluster up|down|status``: the services of ``services.py`` as local processes on
loopback, no Docker. PostgreSQL from the pgserver wheel's binaries (over TCP, with a
password), Debian's ``redis-server``, moto's S3 server, the Airflow components with the
CeleryExecutor, N Celery workers, the inspector app and the Data Docs server.

Everything lives under ``$LIGHTBOX_HOME/cluster`` (``--dir`` to choose another folder):
``state.json`` (ports, process ids), ``secrets.env`` (generated once, mode 600; a variable
set in the environment wins), ``logs/<service>.log``, the database, and ``home/`` (the
services' LIGHTBOX_HOME: Airflow's home, task logs, Data Docs). The landing folder is the
caller's ``LIGHTBOX_LANDING``.

Each service runs in its own session (process group): ``down`` stops the whole group, so
no child (a Celery pool process, a task) outlives it. ``up`` that fails stops what it
started.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from lightbox.cluster import services as table
from lightbox.config import REPO_ROOT, settings

INFRASTRUCTURE = ("postgres", "redis", "s3")  # stopped last, postgres very last
USER_PORTS = {"api": 8080, "inspector": 8090, "docs": 8091}
STRIPPED_PREFIXES = ("AIRFLOW_", "AIRFLOW__", "LIGHTBOX_", "AWS_", "FSSPEC_")


class ClusterError(RuntimeError):
    pass


def cluster_dir(path: str | os.PathLike | None = None) -> Path:
    return Path(path).resolve() if path else settings().home / "cluster"


# ---------------------------------------------------------------------------- ports, secrets


_PORTS_GIVEN: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A free port below the kernel's ephemeral range, never one this process gave before.
    (A port the kernel picks for ``bind(0)`` is in the ephemeral range, where any outgoing
    connection may take it in the minutes before the service that was given it binds it.)"""
    try:
        ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768
    low = 20000 if ephemeral_low > 21000 else 1024
    rng = random.SystemRandom()
    for _ in range(500):
        port = rng.randrange(low, ephemeral_low)
        if port not in _PORTS_GIVEN and not port_in_use(port, host):
            _PORTS_GIVEN.add(port)
            return port
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def plan_ports(port_base: int | None = None, api_port: int | None = None, free: bool = False) -> dict[str, int]:
    """A port per name of ``services.PORTS``: ``port_base + i``; else free ones (OS-assigned)
    with ``free``; else the user-facing defaults (8080, 8090, 8091) and free ones for the rest."""
    ports = {}
    for i, name in enumerate(table.PORTS):
        if port_base is not None:
            ports[name] = port_base + i
        elif free or name not in USER_PORTS:
            ports[name] = free_port()
        else:
            ports[name] = USER_PORTS[name]
    if api_port is not None:
        ports["api"] = api_port
    busy = [f"{name} {port}" for name, port in ports.items() if port_in_use(port)]
    if busy:
        raise ClusterError(f"port(s) in use: {', '.join(busy)}; choose others with --port-base or --free-ports")
    return ports


def _generate_secret(name: str) -> str:
    import secrets

    if name == "AIRFLOW_FERNET_KEY":
        from cryptography.fernet import Fernet

        return Fernet.generate_key().decode()
    return secrets.token_urlsafe(24)


def load_secrets(root: Path) -> dict[str, str]:
    """The cluster's secrets: secrets.env (generated on first use), overridden by the
    environment."""
    path = root / "secrets.env"
    values = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and not key.startswith("#"):
                values[key.strip()] = value.strip()
    missing = [n for n in table.SECRETS if n not in values]
    if missing:
        for name in missing:
            values[name] = _generate_secret(name)
        root.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{k}={v}\n" for k, v in sorted(values.items())))
        path.chmod(0o600)
    for name in table.SECRETS:
        if os.environ.get(name):
            values[name] = os.environ[name]
    return values


# ---------------------------------------------------------------------------- the plan


@dataclass
class Instance:
    """One process of a service (a scaled service has several: airflow-worker-1, -2…)."""

    name: str
    service: table.Service
    replica: int = 0


def instances(workers: int) -> list[Instance]:
    out = []
    for s in table.SERVICES:
        if s.scaled:
            out.extend(Instance(f"{s.name}-{i}", s, i) for i in range(1, workers + 1))
        else:
            out.append(Instance(s.name, s))
    return out


def tokens(root: Path, ports: dict[str, int], landing: Path) -> dict[str, str]:
    home = root / "home"
    out = {
        "bind": "127.0.0.1",
        "home": str(home),
        "landing": str(landing),
        "project": str(REPO_ROOT),
        "airflow_home": str(home / "airflow"),
        "data:redis": str(root / "redis"),
    }
    for token, port_name in table.ENDPOINTS.items():
        out[token] = f"127.0.0.1:{ports[port_name]}"
    for name, port in ports.items():
        out[f"port:{name}"] = str(port)
    return out


def _executable(word: str) -> str:
    if word == "python":
        return sys.executable
    if word == "postgres":
        from pgserver._commands import POSTGRES_BIN_PATH

        return str(POSTGRES_BIN_PATH / "postgres")
    beside = Path(sys.executable).with_name(word)
    if beside.exists():
        return str(beside)
    found = shutil.which(word)
    if not found:
        hint = " (scripts/system-deps.sh installs it)" if word == "redis-server" else ""
        raise ClusterError(f"{word} not found{hint}")
    return found


def base_environment() -> dict[str, str]:
    """The caller's environment without its Lightbox, Airflow and AWS settings: a service
    gets exactly those of the table."""
    return {k: v for k, v in os.environ.items() if not k.startswith(STRIPPED_PREFIXES)}


def variables(secrets: dict[str, str]) -> dict[str, str]:
    return {**secrets, **{k: v for k, v in os.environ.items() if v and k not in secrets}}


def command_of(inst: Instance, root: Path, tok: dict[str, str]) -> list[str]:
    argv = [table.fill_tokens(a, tok) for a in inst.service.command]
    argv[0] = _executable(argv[0])
    argv.extend(inst.service.local_args)
    if inst.service.name == "postgres":
        argv[1:1] = ["-D", str(root / "pgdata"), "-c", "unix_socket_directories="]
    if inst.service.scaled:
        argv += ["--celery-hostname", f"{inst.name}@%h", "--pid", str(root / "run" / f"{inst.name}.pid")]
    return argv


def environment_of(inst: Instance, tok: dict[str, str], vars_: dict[str, str]) -> dict[str, str]:
    env = base_environment()
    for key, value in inst.service.env.items():
        env[key] = table.fill_vars(table.fill_tokens(value, tok), vars_)
    if inst.service.scaled:
        env["LIGHTBOX_WORKER_NAME"] = inst.name
    return env


# ---------------------------------------------------------------------------- processes


def _proc_stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()  # state, ppid, pgrp, …


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def pid_alive(pid: int) -> bool:
    _reap(pid)
    stat = _proc_stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def group_pids(pgid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            pid = int(entry.name)
            _reap(pid) if pid == pgid else None
            stat = _proc_stat(pid)
            if stat and int(stat[2]) == pgid and stat[0] not in ("Z", "X"):
                out.append(pid)
    return out


def start_time(pid: int) -> int | None:
    stat = _proc_stat(pid)
    return int(stat[19]) if stat else None


def process_tree(pid: int, started: int | None = None) -> set[int]:
    """``pid``, its process group and every descendant (Airflow runs each task in a process
    group of its own, under the worker: a group signal alone would miss it). With ``started``
    (the process's start time when it was launched), a live ``pid`` that started at another
    time is someone else's (the number was reused): nothing is returned for it."""
    if started is not None and pid_alive(pid) and start_time(pid) != started:
        return set()
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat and stat[0] not in ("Z", "X"):
                children.setdefault(int(stat[1]), []).append(int(entry.name))
    found, todo = set(), [pid, *group_pids(pid)]
    while todo:
        p = todo.pop()
        if p not in found:
            found.add(p)
            todo.extend(children.get(p, []))
    return {p for p in found if pid_alive(p)}


def signal_tree(pids: set[int], sig: int) -> None:
    for p in pids:
        try:
            os.kill(p, sig)
        except (ProcessLookupError, PermissionError):
            pass


def kill_tree(pid: int, started: int | None = None) -> set[int]:
    """SIGKILL a service process and everything under it at once (a lost machine)."""
    pids = process_tree(pid, started)
    signal_tree(pids, signal.SIGKILL)
    return pids


def _wait_pids(pids: set[int], timeout: float) -> set[int]:
    deadline = time.monotonic() + timeout
    left = set(pids)
    while left and time.monotonic() < deadline:
        left = {p for p in left if pid_alive(p)}
        if left:
            time.sleep(0.3)
    return left


# ---------------------------------------------------------------------------- postgres


def _pg_user() -> str | None:
    return "pgserver" if os.geteuid() == 0 else None


def init_postgres(root: Path, password: str) -> None:
    """initdb once: superuser ``lightbox`` (password over TCP), databases ``lightbox`` and
    ``airflow`` (as the postgres image's POSTGRES_USER/POSTGRES_DB and cluster-init.sql do)."""
    pgdata = root / "pgdata"
    if (pgdata / "PG_VERSION").exists():
        return
    from pgserver._commands import POSTGRES_BIN_PATH

    user = _pg_user()
    pgdata.mkdir(parents=True, exist_ok=True)
    pwfile = root / "run" / "pwfile"
    pwfile.parent.mkdir(parents=True, exist_ok=True)
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o600)
    if user:
        import pwd

        from pgserver.utils import ensure_prefix_permissions, ensure_user_exists

        ensure_user_exists(user)
        ensure_prefix_permissions(pgdata)
        uid, gid = pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid
        for path in (pgdata, pwfile):
            os.chown(path, uid, gid)
    cmd = [str(POSTGRES_BIN_PATH / "initdb"), "-D", str(pgdata), "-U", "lightbox", "--pwfile", str(pwfile),
           "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "utf8"]
    result = subprocess.run(cmd, user=user, capture_output=True, text=True)
    pwfile.unlink()
    if result.returncode != 0:
        raise ClusterError(f"initdb failed:\n{result.stdout}\n{result.stderr}")


def _postgres_databases(port: int, password: str) -> None:
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=port, user="lightbox", password=password, dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        for name in ("lightbox", "airflow"):
            cur.execute("select 1 from pg_database where datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(f'create database "{name}"')
    conn.close()


# ---------------------------------------------------------------------------- health


def check_health(inst: Instance, ports: dict[str, int], secrets: dict[str, str]) -> bool:
    health = inst.service.health
    if health is None:
        return True
    try:
        if health.kind == "postgres":
            import psycopg2

            psycopg2.connect(host="127.0.0.1", port=ports["postgres"], user="lightbox",
                             password=secrets["POSTGRES_PASSWORD"], dbname="postgres", connect_timeout=3).close()
            return True
        if health.kind == "redis":
            with socket.create_connection(("127.0.0.1", ports["redis"]), timeout=3) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        if health.kind == "http":
            import urllib.request

            with urllib.request.urlopen(f"http://127.0.0.1:{ports[health.port]}{health.path}", timeout=5) as resp:
                return resp.status < 400
        if health.kind == "job":
            import psycopg2

            conn = psycopg2.connect(host="127.0.0.1", port=ports["postgres"], user="lightbox",
                                    password=secrets["POSTGRES_PASSWORD"], dbname="airflow", connect_timeout=3)
            try:
                with conn.cursor() as cur:
                    cur.execute("select count(*) from job where job_type = %s and state = 'running' "
                                "and latest_heartbeat > now() - interval '90 seconds'", (health.job_type,))
                    return cur.fetchone()[0] > 0
            finally:
                conn.close()
        if health.kind == "celery":
            return inst.name in celery_workers(ports)
    except Exception:  # noqa: BLE001 - not up (yet)
        return False
    raise ValueError(f"unknown health check {health.kind}")


def celery_workers(ports: dict[str, int]) -> set[str]:
    """Names of the Celery workers that answer a ping (``airflow-worker-1``…)."""
    from celery import Celery

    app = Celery(broker=f"redis://127.0.0.1:{ports['redis']}/0")
    try:
        replies = app.control.ping(timeout=2.0) or []
    finally:
        app.close()
    return {node.split("@", 1)[0] for reply in replies for node in reply}


# ---------------------------------------------------------------------------- state


def _state_path(root: Path) -> Path:
    return root / "state.json"


def load_state(root: Path) -> dict | None:
    path = _state_path(root)
    return json.loads(path.read_text()) if path.exists() else None


def _save_state(root: Path, state: dict) -> None:
    tmp = _state_path(root).with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(_state_path(root))


def running_processes(state: dict | None) -> dict[str, int]:
    if not state:
        return {}
    return {name: p["pid"] for name, p in state.get("processes", {}).items() if process_tree(p["pid"], p.get("started"))}


# ---------------------------------------------------------------------------- up / down / status


def up(workers: int = 2, root: Path | None = None, port_base: int | None = None, api_port: int | None = None,
       free_ports: bool = False, timeout: float = 900, echo=print) -> dict:
    """Start every service, wait until each is healthy (one-shots: done), return the state."""
    if workers < 1:
        raise ClusterError("--workers must be at least 1")
    root = cluster_dir(root)
    root.mkdir(parents=True, exist_ok=True)
    if running_processes(load_state(root)):
        raise ClusterError(f"a cluster is already running from {root}; `lightbox cluster down` first")
    for folder in ("logs", "run", "home", "redis"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    secrets = load_secrets(root)
    ports = plan_ports(port_base, api_port, free_ports)
    landing = settings().landing
    landing.mkdir(parents=True, exist_ok=True)
    state = {"root": str(root), "ports": ports, "workers": workers, "landing": str(landing), "processes": {}}
    _save_state(root, state)
    try:
        _start(root, state, secrets, timeout, echo)
    except BaseException:
        echo("start-up failed; stopping what was started …")
        down(root, echo=lambda *_: None)
        raise
    state["started_at"] = time.time()
    _save_state(root, state)
    return state


def _start(root: Path, state: dict, secrets: dict[str, str], timeout: float, echo) -> None:
    ports = state["ports"]
    tok = tokens(root, ports, Path(state["landing"]))
    vars_ = variables(secrets)
    pending = instances(state["workers"])
    started: dict[str, tuple[Instance, subprocess.Popen]] = {}
    healthy: set[str] = set()  # instance names
    done: set[str] = set()  # one-shots that succeeded
    deadline = time.monotonic() + timeout

    def service_ok(name: str, condition: str) -> bool:
        names = [i.name for i in instances(state["workers"]) if i.service.name == name]
        pool = done if condition == "completed" else healthy
        return all(n in pool for n in names)

    while True:
        for inst in list(pending):
            if all(service_ok(n, c) for n, c in inst.service.depends_on.items()):
                pending.remove(inst)
                if inst.service.name == "postgres":
                    init_postgres(root, secrets["POSTGRES_PASSWORD"])
                argv = command_of(inst, root, tok)
                env = environment_of(inst, tok, vars_)
                log = open(root / "logs" / f"{inst.name}.log", "ab")
                user = _pg_user() if inst.service.name == "postgres" else None
                proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True, user=user, cwd=str(root))
                log.close()
                started[inst.name] = (inst, proc)
                state["processes"][inst.name] = {"pid": proc.pid, "started": start_time(proc.pid),
                                                 "service": inst.service.name,
                                                 "one_shot": inst.service.one_shot, "log": str(root / "logs" / f"{inst.name}.log")}
                _save_state(root, state)
                echo(f"  started {inst.name} (pid {proc.pid})")
        for name, (inst, proc) in started.items():
            if name in healthy or name in done:
                continue
            code = proc.poll()
            if inst.service.one_shot:
                if code == 0:
                    done.add(name)
                    echo(f"  ✔ {name} done")
                elif code is not None:
                    raise ClusterError(f"{name} failed (exit {code}):\n{log_tail(root, name)}")
                continue
            if code is not None:
                raise ClusterError(f"{name} exited with {code}:\n{log_tail(root, name)}")
            if check_health(inst, ports, secrets):
                if inst.service.name == "postgres":
                    _postgres_databases(ports["postgres"], secrets["POSTGRES_PASSWORD"])
                healthy.add(name)
                echo(f"  ✔ {name} healthy")
        if not pending and all(n in healthy or n in done for n in started):
            return
        if time.monotonic() > deadline:
            waiting = [n for n in started if n not in healthy and n not in done] + [i.name for i in pending]
            raise ClusterError(f"not healthy after {timeout:.0f} s: {', '.join(waiting)}")
        time.sleep(1)


def log_tail(root: Path, name: str, lines: int = 30) -> str:
    path = root / "logs" / f"{name}.log"
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def down(root: Path | None = None, purge: bool = False, timeout: float = 40, echo=print) -> list[str]:
    """Stop every process of the cluster (and its children); ``purge`` removes its data."""
    root = cluster_dir(root)
    state = load_state(root)
    stopped = []
    if state:
        procs = state.get("processes", {})
        app = [n for n, p in procs.items() if p["service"] not in INFRASTRUCTURE]
        stages = [app, [n for n, p in procs.items() if p["service"] in ("redis", "s3")],
                  [n for n, p in procs.items() if p["service"] == "postgres"]]
        for names in stages:
            trees = {n: process_tree(procs[n]["pid"], procs[n].get("started")) for n in names}
            for n in names:
                if procs[n]["service"] == "postgres":
                    # SIGINT is its fast shutdown (SIGTERM waits for clients to leave); the
                    # postmaster stops its own children
                    signal_tree({procs[n]["pid"]}, signal.SIGINT)
                else:
                    signal_tree(trees[n], signal.SIGTERM)
            everything = set().union(*trees.values()) if trees else set()
            left = _wait_pids(everything, timeout)
            signal_tree(left, signal.SIGKILL)
            _wait_pids(left, 10)
            stopped.extend(names)
        for n in stopped:
            echo(f"  stopped {n}")
        state["processes"] = {}
        _save_state(root, state)
    if purge and root.exists():
        shutil.rmtree(root, ignore_errors=True)
    return stopped


def status(root: Path | None = None) -> dict:
    root = cluster_dir(root)
    state = load_state(root)
    if not state or not state.get("processes"):
        return {"running": False, "root": str(root), "services": {}}
    secrets = load_secrets(root)
    ports = state["ports"]
    services = {}
    by_name = {i.name: i for i in instances(state["workers"])}
    for name, proc in state["processes"].items():
        inst = by_name[name]
        alive = bool(process_tree(proc["pid"], proc.get("started")))
        if inst.service.one_shot:
            services[name] = "done" if not alive else "running"
            continue
        services[name] = ("healthy" if check_health(inst, ports, secrets) else "unhealthy") if alive else "stopped"
    running = all(v in ("healthy", "done") for v in services.values())
    return {"running": running, "root": str(root), "ports": ports, "workers": state["workers"], "services": services}


def client_environment(root: Path | None = None) -> dict[str, str]:
    """What a client on this machine sets to use the cluster like its services do
    (``lightbox`` commands, boto3/s3fs, psql): the environment of a worker."""
    root = cluster_dir(root)
    state = load_state(root)
    if not state:
        raise ClusterError(f"no cluster state in {root}")
    tok = tokens(root, state["ports"], Path(state["landing"]))
    # A worker's environment, and the warehouse URL the CLI reads (tasks take theirs from the
    # lightbox_warehouse connection instead).
    client = table.service("airflow-api-server")
    client = replace(client, env={**client.env, "LIGHTBOX_DATABASE_URL": table.WAREHOUSE_URL})
    env = environment_of(Instance("client", client), tok, variables(load_secrets(root)))
    return {k: v for k, v in env.items() if k.startswith(STRIPPED_PREFIXES)}

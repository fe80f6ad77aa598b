"""``lightbox up`` stops its whole process tree (issue 15): started for real (Airflow's four
services, the inspector app, Data Docs), stopped by a service manager's SIGTERM, or by a
terminal's Ctrl-C followed by an impatient SIGTERM while it stops, and then no process of the
stack is left (the process that ``up`` started must not outlive it)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import httpx
import psutil
import pytest

PORT = 18510  # this suite's port range: 18500-18599 (inspector +10, Data Docs +11)


def _stack(marker: str) -> list[psutil.Process]:
    """Every live process started with the marker in its environment."""
    found = []
    for p in psutil.process_iter():
        try:
            if p.environ().get("LIGHTBOX_UP_TEST") == marker and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def _wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(1)
    return condition()


@pytest.mark.slow
@pytest.mark.parametrize("how", ["sigterm", "ctrl-c-then-sigterm"])
def test_up_leaves_no_process_behind(db_url, airflow_metadata, tmp_path, how):
    marker = uuid.uuid4().hex
    env = {**os.environ, "LIGHTBOX_HOME": str(tmp_path / "home"), "LIGHTBOX_LANDING": str(tmp_path / "landing"),
           "LIGHTBOX_UP_TEST": marker, "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")]))}
    log = open(tmp_path / "up.log", "wb")
    up = subprocess.Popen([sys.executable, "-m", "lightbox.cli", "up", "--port", str(PORT)], env=env,
                          stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def inspector_up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{PORT + 10}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        assert _wait_until(inspector_up, 240), (tmp_path / "up.log").read_text()[-3000:]
        # the whole stack is up: Airflow's services (and the scheduler's workers) have started
        names = ("api-server", "scheduler", "dag-processor", "triggerer")
        assert _wait_until(lambda: all(any(n in " ".join(p.cmdline()) for p in _stack(marker)) for n in names), 180)
        before = _stack(marker)
        assert len(before) >= 7  # up, four Airflow services, the inspector, Data Docs
        if how == "sigterm":
            up.send_signal(signal.SIGTERM)
        else:  # an impatient user: Ctrl-C (to the terminal's foreground group), then a SIGTERM while it stops
            os.killpg(up.pid, signal.SIGINT)
            assert _wait_until(lambda: "stopping" in (tmp_path / "up.log").read_text(), 60)
            up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=120) == 0
        left = _stack(marker)
        assert left == [], [" ".join(p.cmdline()) for p in left]
        assert "stopped." in (tmp_path / "up.log").read_text()
    finally:
        for p in _stack(marker):  # never leave a stack running after a failed test
            p.kill()
        if up.poll() is None:
            up.kill()
        log.close()


TREE = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a stubborn worker that ignores SIGTERM
if sys.argv[1:] == ["service"]:
    subprocess.Popen([sys.executable, __file__, "worker"], start_new_session=True)  # left the group
    subprocess.Popen([sys.executable, __file__, "worker"])
while True:
    time.sleep(0.2)
"""


def test_the_supervisor_stops_workers_that_ignore_sigterm_or_left_the_group(tmp_path):
    """The shape of the orphans issue 15 found (a service's forked workers outliving it),
    made deterministic: a service whose workers ignore SIGTERM, one in a session of its own."""
    from lightbox.commands.up import Supervisor

    marker = uuid.uuid4().hex
    script = tmp_path / "tree.py"
    script.write_text(TREE)
    supervisor = Supervisor({**os.environ, "LIGHTBOX_UP_TEST": marker}, tmp_path)
    supervisor.start("service", [sys.executable, str(script), "service"])
    try:
        assert _wait_until(lambda: len(_stack(marker)) == 3, 60)
        supervisor.track()
        supervisor.stop(grace_s=2)
        assert _stack(marker) == []
    finally:
        for p in _stack(marker):
            p.kill()

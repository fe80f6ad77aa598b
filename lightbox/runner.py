"""Run DAGs once, in dependency order, with ``airflow dags test``: what ``lightbox run`` and
``lightbox demo`` do. Works on an empty LIGHTBOX_HOME: it starts the embedded database and
creates or migrates whatever is missing."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lightbox import airflow_env, schema
from lightbox.config import DAG_ORDER


@dataclass
class DagRunResult:
    dag_id: str
    state: str  # success or failed
    seconds: float
    log_tail: str = ""


def prepare() -> None:
    """Database server, both databases, the warehouse schema, Airflow's metadata."""
    schema.setup()
    airflow_env.ensure_metadata_db()
    from lightbox.marts import ensure_manifest

    ensure_manifest()


def run_dags(
    dag_ids: list[str] | None = None,
    landing: str | None = None,
    logical_date: str | None = None,
    echo=print,
) -> list[DagRunResult]:
    """Run each DAG once with ``airflow dags test`` (the logical date: now, or the one given,
    e.g. the sample data's as_of so that the demo's timeline holds together)."""
    requested = list(dag_ids) if dag_ids else list(DAG_ORDER)
    unknown = [d for d in requested if d not in DAG_ORDER]
    if unknown:
        raise SystemExit(f"unknown DAG id(s): {', '.join(unknown)}; known: {', '.join(DAG_ORDER)}")
    if landing:
        os.environ["LIGHTBOX_LANDING"] = os.path.abspath(landing)
    echo("preparing the database and Airflow's metadata…")
    prepare()
    results = []
    for dag_id in [d for d in DAG_ORDER if d in requested]:
        echo(f"▶ {dag_id} …")
        started = time.monotonic()
        args = ["dags", "test", dag_id] + ([logical_date] if logical_date else [])
        returncode, output = _run_streaming(args, echo)
        seconds = time.monotonic() - started
        failed = returncode != 0 or "state=failed" in output or "DagRunState.FAILED" in output
        state = "failed" if failed else "success"
        log_dir = airflow_env.settings().home / "logs" / "lightbox-run"
        log_dir.mkdir(parents=True, exist_ok=True)
        (log_dir / f"{dag_id}.log").write_text(output)
        echo(f"  {'✔' if not failed else '✘'} {dag_id}: {state} in {seconds:.1f} s (log: {log_dir / (dag_id + '.log')})")
        for line in output.splitlines():
            # Tasks print one-line results as "lightbox-summary: …"; show them to the user.
            if "lightbox-summary:" in line:
                echo("    " + line.split("lightbox-summary:", 1)[1].strip())
        if failed:
            echo(_failure_excerpt(output))
        results.append(DagRunResult(dag_id, state, seconds, output[-4000:]))
    return results


def _run_streaming(args: list[str], echo) -> tuple[int, str]:
    """Run an ``airflow`` command, showing its ``lightbox-progress:`` lines as they come (a
    sweep's shards report pages, images, matches, failures and retries every few seconds);
    returns the exit code and the whole output."""
    env = {**os.environ, **airflow_env.airflow_environment()}
    exe = Path(sys.executable).with_name("airflow")
    lines = []
    with subprocess.Popen([str(exe), *args], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace", bufsize=1) as proc:
        for line in proc.stdout:
            lines.append(line)
            if "lightbox-progress:" in line:
                progress = line.split("lightbox-progress:", 1)[1].strip()
                echo("    … " + re.sub(r"\s+\[[\w.]+\]\s+loc=\S+$", "", progress))  # Airflow's log suffix
    return proc.returncode, "".join(lines)


def _failure_excerpt(output: str, lines: int = 25) -> str:
    interesting = [l for l in output.splitlines() if "ERROR" in l or "Traceback" in l or "Error" in l]
    return "\n".join("    " + l for l in (interesting or output.splitlines())[-lines:])


def exit_code(results: list[DagRunResult]) -> int:
    return 1 if any(r.state == "failed" for r in results) else 0


if __name__ == "__main__":
    sys.exit(exit_code(run_dags(sys.argv[1:] or None)))

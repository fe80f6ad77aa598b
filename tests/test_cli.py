"""The `lightbox` command as a user runs it: on an empty LIGHTBOX_HOME it starts the embedded
database, migrates Airflow's metadata, loads the landing folder, and a second run loads 0
rows; `lightbox db url` prints a URL psql accepts."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

LIGHTBOX = str(Path(sys.executable).with_name("lightbox"))


def _env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LIGHTBOX_"))}
    env["LIGHTBOX_HOME"] = str(home)
    return env


@pytest.mark.slow
def test_run_on_an_empty_home_then_again_loads_nothing(tmp_path):
    home = Path("/tmp") / f"lbcli-{os.getpid()}"  # short: the server's socket lives in it
    landing = home / "landing" / "fx_rates"
    landing.mkdir(parents=True)
    (landing / "rates.csv").write_text("rate_date,currency,usd_per_unit\n2026-01-01,EUR,1.1\n2026-01-01,ZZZ,1\n")
    env = _env(home)
    try:
        first = subprocess.run([LIGHTBOX, "run", "ingest_landing"], env=env, capture_output=True, text=True, timeout=600)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        assert "1 new files, 1 rows loaded, 1 quarantined" in first.stdout
        second = subprocess.run([LIGHTBOX, "run", "ingest_landing"], env=env, capture_output=True, text=True, timeout=600)
        assert second.returncode == 0
        assert "0 new files, 0 rows loaded, 0 quarantined" in second.stdout

        url = subprocess.run([LIGHTBOX, "db", "url"], env=env, capture_output=True, text=True, check=True).stdout.strip()
        from pgserver._commands import POSTGRES_BIN_PATH

        psql = subprocess.run([str(POSTGRES_BIN_PATH / "psql"), url, "-tAc", "select count(*) from raw.quarantine"],
                              capture_output=True, text=True, timeout=60)
        assert psql.stdout.strip() == "1", psql.stderr
        status = subprocess.run([LIGHTBOX, "db", "status"], env=env, capture_output=True, text=True)
        assert "running: True" in status.stdout
    finally:
        subprocess.run([LIGHTBOX, "db", "stop"], env=env, capture_output=True, timeout=120)
        subprocess.run(["rm", "-rf", str(home)])


def test_unknown_dag_id_is_refused():
    proc = subprocess.run([LIGHTBOX, "run", "no_such_dag"], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "unknown DAG id" in proc.stderr + proc.stdout

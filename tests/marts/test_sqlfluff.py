"""The dbt models are sqlfluff-clean (dbt templater, postgres dialect: dbt/.sqlfluff)."""
import subprocess
import sys
from pathlib import Path

import pytest

from lightbox import marts


@pytest.mark.slow
def test_sqlfluff_lint_passes(db_url):
    import os

    env = {**os.environ, **marts.dbt_environment(db_url)}
    sqlfluff = str(Path(sys.executable).with_name("sqlfluff"))
    proc = subprocess.run([sqlfluff, "lint", "models", "tests/singular", "--disable-progress-bar"],
                          cwd=marts.DBT_DIR, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]

"""DAG integrity, as mozilla/telemetry-airflow does it: every file in dags/ imports without
errors, carries the house rules (owner, retries, tags, docs, an explicit schedule), is one of
the fixed DAG ids of shared/DESIGN.md, and does no heavy work at import time."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lightbox import run_context, task_defaults
from lightbox.config import DAG_ORDER

REPO = Path(__file__).resolve().parents[2]
DAG_FILES = sorted(p for p in (REPO / "dags").glob("*.py") if not p.name.startswith("_"))
HEAVY = ("pandas", "numpy", "lightgbm", "sklearn", "PIL", "great_expectations", "imagehash", "cv2", "httpx",
         "psycopg2", "dbt", "matplotlib", "fsspec")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_every_file_is_a_design_dag_named_after_its_file(dagbag):
    assert DAG_FILES, "no DAG files"
    for path in DAG_FILES:
        assert path.stem in DAG_ORDER, f"{path.name}: not a DAG id of shared/DESIGN.md"
        assert path.stem in dagbag.dag_ids, f"{path.name} defines no DAG called {path.stem}"


def test_house_rules(dagbag):
    for dag_id in dagbag.dag_ids:
        dag = dagbag.dags[dag_id]
        assert dag.tags, f"{dag_id}: no tags"
        assert dag.doc_md and "Idempotency key" in dag.doc_md and "Triage notes" in dag.doc_md, f"{dag_id}: doc_md"
        source = Path(dag.fileloc).read_text()
        assert "schedule=" in source, f"{dag_id}: no explicit schedule"
        for task in dag.tasks:
            assert task.owner not in ("", "airflow"), f"{dag_id}.{task.task_id}: owner {task.owner!r}"
            assert task.retries >= 2, f"{dag_id}.{task.task_id}: retries {task.retries}"


def test_tags_come_from_the_vocabulary_and_default_args_are_shared(dagbag):
    """Tags from lightbox.run_context.TAGS only ("lightbox" plus the DAG's area), so that the
    UI's tag filter finds every DAG of an area; retries and owner from the one DEFAULT_ARGS."""
    for dag_id in dagbag.dag_ids:
        dag = dagbag.dags[dag_id]
        unknown = set(dag.tags) - run_context.TAGS
        assert not unknown, f"{dag_id}: tags {sorted(unknown)} are not in lightbox.run_context.TAGS"
        assert "lightbox" in dag.tags, f"{dag_id}: no 'lightbox' tag"
        assert len(dag.tags) >= 2, f"{dag_id}: tag the DAG's area too"
        for task in dag.tasks:
            for key, value in run_context.DEFAULT_ARGS.items():
                assert getattr(task, key) == value, f"{dag_id}.{task.task_id}: {key} {getattr(task, key)!r} is not the shared default"
            # The warehouse is the lightbox_warehouse connection in every task.
            hook = task.partial_kwargs.get("pre_execute") if hasattr(task, "partial_kwargs") else task._pre_execute_hook
            assert hook is task_defaults.use_warehouse_connection, f"{dag_id}.{task.task_id}: no warehouse hook"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.stem)
def test_no_heavy_imports_at_parse_time(path):
    """Parsing a DAG file must not import pandas, LightGBM, Pillow… nor touch the database.
    Its import time is printed (a parse budget of under a second per file), never asserted."""
    code = f"""
import json, sys, time, importlib.util
import airflow.sdk
before = set(sys.modules)
start = time.perf_counter()
spec = importlib.util.spec_from_file_location("dag_under_test", {str(path)!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
elapsed = time.perf_counter() - start
new = sorted({{m.split(".")[0] for m in set(sys.modules) - before}})
print(json.dumps({{"seconds": elapsed, "new": new}}))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"{path.name}: parsed in {report['seconds']:.3f} s")
    heavy = [m for m in report["new"] if m in HEAVY]
    assert heavy == [], f"{path.name} imports {heavy} at parse time: import them inside tasks"

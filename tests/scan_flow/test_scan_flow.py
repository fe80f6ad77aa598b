"""What the event-driven runs on a submission's path decide: which raw suites gate an
ingest, and how often the scores gate runs (real PostgreSQL for quality.results)."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from lightbox import scan_flow


def test_only_runs_started_by_an_asset_event_are_event_runs():
    assert scan_flow.is_event_run({"dag_run": SimpleNamespace(run_type="asset_triggered")})
    assert not scan_flow.is_event_run({"dag_run": SimpleNamespace(run_type="scheduled")})
    assert not scan_flow.is_event_run({"dag_run": SimpleNamespace(run_type="manual")})
    assert not scan_flow.is_event_run({})


def test_an_event_run_gates_on_the_critical_suites_of_the_sources_it_loaded():
    from lightbox.quality import CRITICAL
    from lightbox.quality.suites import SUITES

    assert scan_flow.raw_gate_suites(["photos"], event_run=True) == []  # no critical suite judges photos
    consents = scan_flow.raw_gate_suites(["photos", "region_consents"], event_run=True)
    assert consents and all(SUITES[n].severity == CRITICAL and SUITES[n].asset == "raw.region_consents"
                            for n in consents)
    assert scan_flow.raw_gate_suites(["photos"], event_run=False) is None  # every raw suite


def test_choosing_suites_does_not_import_great_expectations():
    import subprocess
    import sys

    code = ("import sys; from lightbox import scan_flow; scan_flow.raw_gate_suites(['photos'], True); "
            "print('great_expectations' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def _result(conn, run_id, suite, severity, success, minutes_ago):
    with conn.cursor() as cur:
        cur.execute(
            """insert into quality.results (run_id, suite, stage, severity, asset, success, evaluated, failed, run_at)
               values (%s, %s, 'scores', %s, 'licensing.scores', %s, 1, %s, %s)""",
            (run_id, suite, severity, success, 0 if success else 1,
             datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)),
        )


def test_the_scores_gate_runs_at_most_once_per_interval_on_event_runs(conn):
    assert scan_flow.scores_gate_due(conn, event_run=True)  # never ran

    _result(conn, "r1", "licensing_scores", "critical", True, minutes_ago=1)
    assert not scan_flow.scores_gate_due(conn, event_run=True)
    assert scan_flow.scores_gate_due(conn, event_run=False)  # scheduled and manual runs: always
    assert scan_flow.scores_gate_due(conn, event_run=True, interval=timedelta(seconds=30))

    # a gate that failed is no reason to wait: check again
    _result(conn, "r2", "licensing_scores", "critical", False, minutes_ago=0)
    _result(conn, "r2", "licensing_score_drift", "warning", True, minutes_ago=0)
    assert not scan_flow.scores_gate_due(conn, event_run=True)  # r1 passed a minute ago
    with conn.cursor() as cur:
        cur.execute("delete from quality.results where run_id = 'r1'")
    assert scan_flow.scores_gate_due(conn, event_run=True)


def test_a_failed_warning_suite_does_not_force_the_gate(conn):
    _result(conn, "r1", "licensing_scores", "critical", True, minutes_ago=1)
    _result(conn, "r1", "licensing_score_drift", "warning", False, minutes_ago=1)
    assert not scan_flow.scores_gate_due(conn, event_run=True)


def _asset_names(condition) -> set[str]:
    if hasattr(condition, "objects"):  # any / all of several
        return set().union(*(_asset_names(o) for o in condition.objects))
    return {condition.name}


def test_scoring_runs_on_new_raw_data_and_a_slow_cron(airflow_metadata):
    from pathlib import Path

    from airflow.dag_processing.dagbag import DagBag

    repo = Path(__file__).resolve().parents[2]
    bag = DagBag(dag_folder=str(repo / "dags" / "licensing_score_submissions.py"))
    assert not bag.import_errors
    dag = bag.get_dag("licensing_score_submissions")
    assert _asset_names(dag.timetable.asset_condition) == {"lightbox.raw", "lightbox.licensing.model_versions"}
    assert dag.timetable.timetable.expression == "*/30 * * * *"
    assert dag.max_active_runs == 2
    assert set(dag.task_ids) == {"score_submissions", "validate_scores"}


def test_lightbox_up_keeps_every_port_in_its_range(monkeypatch):
    from lightbox.commands.up import up_ports

    monkeypatch.delenv("AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT", raising=False)
    monkeypatch.delenv("AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT", raising=False)
    ports = up_ports(19000)
    assert all(19000 <= p < 19100 for p in ports.values())
    assert len(set(ports.values())) == len(ports)
    assert up_ports(19000, inspector_port=19050)["inspector"] == 19050

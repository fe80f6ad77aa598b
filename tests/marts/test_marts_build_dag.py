"""marts_build end to end with dag.test(): every model builds and every dbt test passes."""
import pytest


@pytest.mark.slow
def test_marts_build_builds_every_mart(run_dag, conn):
    dag_run, states = run_dag("marts_build")
    failed = {task: state for task, state in states.items() if state != "success"}
    assert failed == {}, failed
    with conn.cursor() as cur:
        cur.execute("select table_name from information_schema.tables where table_schema = 'marts'")
        built = {r[0] for r in cur.fetchall()}
    for mart in ("settlement_statements", "partner_reconciliation", "ledger_trial_balance", "photographer_earnings",
                 "licensing_funnel", "inspector_throughput", "model_calibration", "infringement_cases_by_domain",
                 "infringement_recoveries", "region_contents", "consent_coverage", "removal_latency"):
        assert mart in built

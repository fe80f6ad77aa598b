"""The quality DAGs with dag.test(): quality_report builds Data Docs that show the planted
problems; validate_raw stops ingest_landing before its Asset event on a critical failure."""
from quality_helpers import AS_OF, clean_raw, insert, plant_problems, results


def _ok(dag_run):
    return str(dag_run.state) in ("success", "DagRunState.SUCCESS")


def test_quality_report_builds_data_docs_with_the_failed_expectations(run_dag, conn, lightbox_home):
    from lightbox.config import settings

    plant_problems(conn, clean_raw(conn))
    dag_run, states = run_dag("quality_report", logical_date=AS_OF)
    assert _ok(dag_run), states
    index = settings().docs_dir / "data_docs" / "index.html"
    assert index.exists()
    html = index.read_text()
    assert "raw_fx_rates" in html and "replication_consent" in html
    rows = {r[1]: r for r in results(conn)}
    assert not rows["raw_fx_rates"][3] and rows["replication_consent"][3]
    page = rows["raw_fx_rates"][6].removeprefix("file://")
    assert "no EUR rate on 2026-09-13" in open(page).read()
    # The auditors' front page (no scripts, so it reads the same offline) names the failed
    # suite, says what failed, and links the run's Data Docs page.
    overview = (settings().docs_dir / "index.html").read_text()
    assert "no EUR rate on 2026-09-13" in overview
    assert page.removeprefix(str(settings().docs_dir) + "/") in overview


def test_validate_raw_blocks_publish_raw_on_a_critical_failure(run_dag, conn, landing, lightbox_home):
    # an event that an older loader let through: replication cannot decide on it
    insert(conn, "raw.region_consents", [{"event_id": "e9", "user_id": "u2", "region": "eu", "photo_id": None,
                                          "action": "grnat", "at": AS_OF}])
    (landing / "fx_rates").mkdir()
    (landing / "fx_rates" / "r.csv").write_text("rate_date,currency,usd_per_unit\n2026-09-30,USD,1\n")
    dag_run, states = run_dag("ingest_landing")
    assert states["validate_raw"] == "failed"
    assert states["publish_raw"] == "upstream_failed"  # no lightbox.raw Asset event
    assert [r[3] for r in results(conn, "raw_region_consents")][-1] is False


def test_airflow_loads_the_data_docs_link():
    from airflow import plugins_manager

    plugins, errors = plugins_manager._get_plugins()
    assert not {k: v for k, v in errors.items() if "lightbox_docs" in str(k)}
    plugin = next(p for p in plugins if p.name == "lightbox_docs")
    view = plugin.external_views[0]
    assert view["name"] == "Data Docs" and view["destination"] == "nav"
    assert view["href"] == "http://localhost:8091/"
    assert "url_route" not in view  # a plain link out of the UI, to the site `lightbox up` serves

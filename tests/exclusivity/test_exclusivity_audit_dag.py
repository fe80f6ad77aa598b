"""The ``exclusivity_audit`` DAG runs with ``dag.test()`` on the sample marketplace: every
task succeeds, violations and holds are recorded, the report is written. changes nothing (rerun safety is tested on the library in test_audit.py)."""
from exclusivity_fixtures import rows


def test_exclusivity_audit_dag(conn, marketplace, run_dag):
    _, states = run_dag("exclusivity_audit")
    assert states == {
        "sync_catalog": "success",
        "fetch_listings": "success",
        "match_listings": "success",
        "apply_holds": "success",
        "write_report": "success",
    }
    violations = rows(conn, "select photo_id, site, status from exclusivity.violations order by 1, 2")
    assert violations == [("p1", "stockhub.net", "open"), ("p3", "pixelstockr.com", "open"), ("p3", "pixelstockr.com", "open")]
    assert rows(conn, "select photo_id, infringer_domain, status from infringement.cases") == [("p2", "stockhub.net", "open")]
    assert rows(conn, "select photo_id from exclusivity.holds order by 1") == [("p1",), ("p3",)]
    [(report_uri, checked)] = rows(conn, "select report_uri, (report->>'listings_checked')::int from exclusivity.audit_reports")
    assert checked == 15 and report_uri.endswith(".md")

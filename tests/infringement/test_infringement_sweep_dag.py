"""The infringement_sweep DAG end to end with dag.test(): a tiny local site with one planted
copy of an exclusive photo becomes one case with evidence (reruns: see test_actioner)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from .infringement_sites import LocalWeb, copy_of, insert_photo, insert_seed, install_photos, jpeg, page, unrelated


@pytest.mark.slow
def test_infringement_sweep_dag(run_dag, conn, landing, lightbox_home, monkeypatch):
    with LocalWeb("127.0.0.1") as web:
        host = "www.copycat-prints.test"
        monkeypatch.setenv("LIGHTBOX_CRAWL_RESOLVE", f"{host}=127.0.0.1")
        web.route(host, "/", page("/logo.jpg", links=("/gallery.html",)))
        web.route(host, "/logo.jpg", jpeg(unrelated()))
        web.route(host, "/gallery.html", page("/stolen.jpg"))
        web.route(host, "/stolen.jpg", jpeg(copy_of("GreenMeadow.jpg", crop=0.05, long_side=600)))
        paths = install_photos(landing, {"P7": "GreenMeadow.jpg"})
        with conn.cursor() as cur:
            insert_photo(cur, "P7", "U7", paths["P7"])
            insert_seed(cur, web.url(host, "/"), max_depth=1)

        logical_date = datetime(2026, 3, 1, tzinfo=timezone.utc)
        _run, states = run_dag("infringement_sweep", logical_date=logical_date)
        assert set(states.values()) <= {"success", "skipped"}, states
        for task_id in ("sync_catalog", "seed_frontier", "plan_shards", "crawl_shard", "match_images", "open_cases", "write_report"):
            assert states[task_id] == "success", (task_id, states)

        with conn.cursor() as cur:
            cur.execute("select photo_id, infringer_domain, status, opened_at, evidence_uri from infringement.cases")
            cases = cur.fetchall()
            cur.execute("select report->>'pages_fetched', report_uri from infringement.sweeps")
            (pages_fetched, report_uri), = cur.fetchall()
        assert [(p, d, s) for p, d, s, _, _ in cases] == [("P7", "copycat-prints.test", "open")]
        assert cases[0][4] and report_uri and int(pages_fetched) == 2

"""The planted problems of the sample marketplace (`lightbox seed`, _seed.json
"expected"."quality") fail the raw warning suites with a clear message, and nothing critical."""
import json
from datetime import datetime

import pytest

from lightbox.quality.gates import run_gate


@pytest.mark.slow
def test_sample_data_planted_problems_show_up(conn, db_url, lightbox_home, tmp_path):
    from lightbox.landing.ingest import ingest_folder
    from lightbox.seed import generate

    landing = tmp_path / "landing"
    generate(landing, scale="small", seed=7, sites_dir=tmp_path / "sites")
    manifest = json.loads((landing / "_seed.json").read_text())
    planted = manifest["expected"]["quality"]
    ingest_folder(landing, url=db_url, sources=["users", "photos", "sales", "fx_rates", "region_consents"])

    outcome = run_gate("raw", "seed-run", datetime.fromisoformat(manifest["as_of"]))  # warnings only: no raise
    assert outcome["raw_region_consents"]["success"]
    with conn.cursor() as cur:
        cur.execute("select suite, message, unexpected_sample::text from quality.expectation_results where not success")
        failures = cur.fetchall()
    text = " ".join(f"{s} {m} {u}" for s, m, u in failures)
    new_id, old_id = planted["sales_reexport"]["pairs"][0]
    assert f"sale {new_id} repeats sale {old_id}" in text
    assert f"no {planted['missing_fx']['currency']} rate on {planted['missing_fx']['date']}" in text
    assert planted["drift_batch"]["category"] in text
    for photo_id in planted["photos_without_owner"]:
        assert f"photo {photo_id} belongs to unknown user" in text
    assert {s for s, _, _ in failures} == {"raw_sales", "raw_fx_rates", "raw_photos"}

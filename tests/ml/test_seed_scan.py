"""The AI scan on the sample marketplace (lightbox.seed): every photo the seed says must be
scored is, none of the others; planted edge cases never crash the scan."""
import pytest

from lightbox import seed


@pytest.mark.slow
def test_scan_matches_the_seed_expectations(db_url, landing, lightbox_home, tmp_path):
    from lightbox import db
    from lightbox.landing.ingest import ingest_folder
    from ml import score, train

    seed.generate(landing, scale="small", seed=7, sites_dir=tmp_path / "sites")
    ingest_folder(landing, url=db_url)
    expected = seed.load_manifest(landing)["expected"]["aiscan"]
    as_of = seed.load_manifest(landing)["as_of"]

    conn = db.connect(db_url)
    result = train.train(conn, as_of)
    assert train.promote_if_better(conn, result.version)["promoted"]
    summary = score.score_submissions(conn, as_of)
    with conn.cursor() as cur:
        cur.execute("select photo_id, decision, reasons from licensing.scores")
        scored = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
        cur.execute("select photo_id, reason from licensing.scan_failures")
        failed = dict(cur.fetchall())
        cur.execute("select photo_id from licensing.review_queue")
        queued = {r[0] for r in cur.fetchall()}
    conn.close()

    handled = set(scored) | set(failed)
    for plant in expected["planted"]:
        if plant["expect"] == "scored":
            assert plant["photo_id"] in scored, plant
        else:
            assert plant["photo_id"] not in handled, plant
    # every eligible photo is scored or listed with a reason; nothing else is touched
    assert set(expected["eligible"]) <= handled
    assert handled <= set(expected["eligible"]) | set(expected["orphan_photos"])
    for pid in expected["orphan_photos"]:
        assert "not a known user" in failed[pid]
    for pid in expected["missing_image"]:
        assert "not found" in failed[pid]
    for pid in expected["unreadable_image"]:
        assert "decoded" in failed[pid] or "cannot" in failed[pid]
    for pid in set(expected["absurd_exif"]) & set(expected["eligible"]):
        assert any("implausible" in r["text"] for r in scored[pid][1])
    assert queued and all(scored[pid][0] == "under_review" for pid in queued)
    assert all(any(r["kind"] == "model" for r in scored[pid][1]) for pid in queued)
    assert summary.failures == len(failed)
    # the routing target removes some photos, and says which defect it measured
    not_suitable = [pid for pid, (decision, _) in scored.items() if decision == "not_suitable"]
    assert not_suitable
    defects = [r["text"] for pid in not_suitable for r in scored[pid][1] if r["kind"] == "defect"]
    assert len(defects) >= len(not_suitable) // 2, defects
    named = ("out of focus", "noise", "underexposed", "overexposed", "clipped", "crushed", "resolution", "upscaled", "JPEG")
    assert all(any(word in text for word in named) for text in defects)

"""The audit on the demo's sample marketplace (``lightbox.seed``, small scale) with its
sample sites served locally: every planted stock listing ends as the seed's manifest says
(the owner's listing is a violation that predates the upload, the stolen one a case, the
404, the duplicate id and the item without fields are recorded), and the hold is placed."""
import pytest
from exclusivity_fixtures import rows


@pytest.mark.slow
def test_audit_finds_the_planted_listings(conn, landing, lightbox_home, monkeypatch, tmp_path):
    from lightbox.exclusivity.audit import fetch_listings, match_listings
    from lightbox.exclusivity.holds import apply_holds
    from lightbox.landing.ingest import ingest_folder
    from lightbox.matching.catalog import sync_catalog
    from lightbox.seed import generate, load_manifest
    from lightbox.sites import free_port, serve_sites

    port = free_port()
    sites = tmp_path / "sites"
    generate(landing, scale="small", sites_dir=sites, sites_port=port)
    manifest = load_manifest(landing)
    for name, key in (("LIGHTBOX_CRAWL_RESOLVE", "crawl_resolve"), ("LIGHTBOX_STOCK_FEEDS", "stock_feeds"),
                      ("LIGHTBOX_OWN_DOMAINS", "own_domains")):
        value = manifest[key]
        if isinstance(value, dict):
            value = ",".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, (list, tuple)):
            value = ",".join(value)
        monkeypatch.setenv(name, value)
    server, _ = serve_sites(sites, port=port)
    try:
        ingest_folder(landing)
        sync_catalog(conn)
        from datetime import datetime

        as_of = datetime.fromisoformat(manifest["as_of"])
        fetch_listings(conn, as_of)
        match_listings(conn, as_of)
        apply_holds(conn, as_of)
    finally:
        server.stop()

    checks = {(s, l): (st, r, p) for s, l, st, r, p in rows(
        conn, "select site, listing_id, status, reason, photo_id from exclusivity.listing_checks")}
    errors = {(s, l, k) for s, l, k in rows(conn, "select site, listing_id, kind from exclusivity.feed_errors")}
    for planted in manifest["expected"]["exclusivity"]:
        key = (planted["site"], planted["listing_id"])
        expect = planted["expect"]
        if expect in ("violation", "infringement"):
            assert checks[key][0] == expect and checks[key][2] == planted["photo_id"], (planted, checks.get(key))
        elif expect == "no_match":
            assert checks[key][0] == "no_match", (planted, checks.get(key))
        elif expect == "image_404":
            assert checks[key][0] == "fetch_error" and "404" in checks[key][1], (planted, checks.get(key))
        elif expect == "duplicate_listing_id":
            assert (planted["site"], planted["listing_id"], "duplicate_listing_id") in errors
        elif expect == "missing_fields":
            assert (planted["site"], planted["listing_id"], "missing_field") in errors
    own = [p for p in manifest["expected"]["exclusivity"] if p["expect"] == "violation"]
    assert own
    for planted in own:
        [(predates, status)] = rows(
            conn, "select listing_predates_upload, status from exclusivity.violations where photo_id = %s and site = %s",
            planted["photo_id"], planted["site"])
        assert status == "open" and predates is planted.get("predates_upload", predates)
        assert rows(conn, "select count(*) from exclusivity.holds where photo_id = %s", planted["photo_id"]) == [(1,)]
    stolen = [p for p in manifest["expected"]["exclusivity"] if p["expect"] == "infringement"]
    for planted in stolen:
        assert rows(conn, "select status from infringement.cases where photo_id = %s", planted["photo_id"]) == [("open",)]

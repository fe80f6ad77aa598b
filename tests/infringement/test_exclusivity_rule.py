"""The one exclusivity rule reaches the sweep and the audit: a photo with an empty flag whose
owner defaults to exclusive is protected (indexed, swept, audited), an explicit ``false``
under that default is not, and a support change (``lightbox photos set-exclusive``) flips a
photo both ways from the next run on. Real landing ingest, PostgreSQL, matching engine,
crawler and safe fetcher against a local web."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from lightbox.exclusivity.audit import fetch_listings, match_listings
from lightbox.infringement import sweep
from lightbox.landing.contract import SOURCES
from lightbox.landing.ingest import ingest_folder
from lightbox.photos import set_exclusive

from .infringement_sites import LocalWeb, copy_of, insert_seed, install_photos, jpeg, page


def header(source: str) -> str:
    return ",".join(c.name for c in SOURCES[source].columns)


BLOG, STOCK = "copycat-blog.test", "img.otherstock.test"
FIRST = datetime(2026, 3, 1, tzinfo=timezone.utc)
NEXT = datetime(2026, 3, 2, tzinfo=timezone.utc)
# photo -> (sample, the photo's own exclusive cell): both owned by u1, who defaults to exclusive
PHOTO_ROWS = {"BYDEFAULT": ("Aqua.jpg", ""), "OPTEDOUT": ("Dune.jpg", "false")}


@pytest.fixture
def web(monkeypatch):
    with LocalWeb("127.0.0.1") as web:
        monkeypatch.setenv("LIGHTBOX_CRAWL_RESOLVE", f"{BLOG}=127.0.0.1,{STOCK}=127.0.0.1,otherstock.test=127.0.0.1")
        web.route(BLOG, "/", page("/a.jpg", "/d.jpg"))
        web.route(BLOG, "/a.jpg", jpeg(copy_of("Aqua.jpg")))
        web.route(BLOG, "/d.jpg", jpeg(copy_of("Dune.jpg")))
        web.route(STOCK, "/1.jpg", jpeg(copy_of("Aqua.jpg", crop=0.04, flip=True)))
        web.route(STOCK, "/2.jpg", jpeg(copy_of("Dune.jpg", crop=0.04, flip=True)))
        yield web


@pytest.fixture
def market(conn, landing, lightbox_home, web):
    def csv(source, rows):
        (landing / source).mkdir(exist_ok=True)
        (landing / source / "1.csv").write_text(header(source) + "\n" + "\n".join(rows) + "\n")

    csv("users", ["u1,alice,PT,2025-01-01T00:00:00Z,false,true,2025-01-01T00:00:00Z,"])
    paths = install_photos(landing, {photo_id: sample for photo_id, (sample, _) in PHOTO_ROWS.items()})
    rows = [
        f"{photo_id},u1,2025-06-01T00:00:00Z,{photo_id},,,nature,,,,,,,,,false,false,false,false,"
        f"false,false,{flag},{paths[photo_id]},,2025-06-01T00:00:00Z,"
        for photo_id, (_, flag) in PHOTO_ROWS.items()
    ]
    csv("photos", rows)
    # a stranger offers copies of both photos on another stock site
    csv("stock_listings", [
        f"otherstock.test,1,{web.url('otherstock.test', '/l/1')},{web.url(STOCK, '/1.jpg')},mallory,Water,2025-08-01T00:00:00Z",
        f"otherstock.test,2,{web.url('otherstock.test', '/l/2')},{web.url(STOCK, '/2.jpg')},mallory,Dune,2025-08-01T00:00:00Z",
    ])
    ingest_folder(landing)
    with conn.cursor() as cur:
        insert_seed(cur, web.url(BLOG, "/"), max_depth=0)
    return conn


def rows(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def protected(conn, as_of: datetime) -> dict:
    """Which photos each job treats as exclusive after a run at ``as_of``."""
    sweep.run_sweep(as_of, verify=False)
    fetch_listings(conn, as_of)
    match_listings(conn, as_of, fetch_pages=False)
    return {
        "rule": {p for p, in rows(conn, "select photo_id from licensing.photo_exclusivity where is_exclusive")},
        "indexed": {p for p, in rows(conn, "select photo_id from matching.photo_hashes")},
        "swept": {p for p, in rows(conn, "select photo_id from infringement.matches where sweep_id = %s and status = 'case'",
                                   sweep.sweep_id_for(as_of))},
        "audited": {p for p, in rows(conn, "select photo_id from exclusivity.listing_checks where as_of = %s"
                                           " and status = 'infringement'", as_of)},
    }


JOBS = ("rule", "indexed", "swept", "audited")


@pytest.mark.slow
def test_an_empty_flag_under_an_exclusive_default_is_indexed_swept_and_audited(market):
    seen = protected(market, FIRST)
    assert all("BYDEFAULT" in seen[job] for job in JOBS), seen
    assert ("BYDEFAULT", "owner_default") in rows(market, "select photo_id, exclusive_source from licensing.photo_exclusivity")
    cases = rows(market, "select photo_id, infringer_domain from infringement.cases order by 2")
    assert cases == [("BYDEFAULT", "copycat-blog.test"), ("BYDEFAULT", "otherstock.test")]


@pytest.mark.slow
def test_an_explicit_false_under_an_exclusive_default_is_not(market):
    seen = protected(market, FIRST)
    assert not any("OPTEDOUT" in seen[job] for job in JOBS), seen
    assert rows(market, "select status from exclusivity.listing_checks where listing_id = '2'") == [("no_match",)]
    assert rows(market, "select count(*) from infringement.matches where photo_id = 'OPTEDOUT'") == [(0,)]


@pytest.mark.slow
def test_a_support_change_flips_a_photo_both_ways_from_the_next_run(market):
    assert protected(market, FIRST)["indexed"] == {"BYDEFAULT"}
    at = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    set_exclusive(market, "OPTEDOUT", True, "sam", "photographer asked", at=at)
    set_exclusive(market, "BYDEFAULT", False, "sam", "photographer sells it elsewhere", at=at)
    seen = protected(market, NEXT)
    assert seen == {job: {"OPTEDOUT"} for job in JOBS}
    assert rows(market, "select photo_id, exclusive_source from licensing.photo_exclusivity order by 1") == [
        ("BYDEFAULT", "support_change"), ("OPTEDOUT", "support_change")]
    # the rule at a time: before the change, each photo was what its flag or default said
    assert rows(market, "select photo_id from licensing.photo_exclusivity_at(%s) where is_exclusive", FIRST) == [("BYDEFAULT",)]

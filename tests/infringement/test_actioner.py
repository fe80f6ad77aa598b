"""A sweep over a small local web with planted copies, matched by the real engine: licensed
uses and the marketplace's own domain are left alone, a held photo opens no case (and its
open case is paused), everything else becomes one case per photo and registrable domain,
with evidence a person can open and one partner-outbox message per new case or change."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from lightbox.infringement import sweep
from lightbox.objects import get_bytes

from .infringement_sites import LocalWeb, copy_of, insert_photo, insert_seed, install_photos, jpeg, page, unrelated

AS_OF = "2026-03-01T00:00:00+00:00"
LATER = "2026-03-02T00:00:00+00:00"
HOSTS = {
    "shop": "www.sunny-travel-blog.co.uk",
    "shop_cdn": "img.sunny-travel-blog.co.uk",
    "licensed": "blog.licensed-news.test",
    "expired": "expired-news.test",
    "own": "cdn.lightbox-market.test",
    "reporter": "forum.reported.test",
}


@pytest.fixture
def web(monkeypatch):
    with LocalWeb("127.0.0.1") as web:
        monkeypatch.setenv("LIGHTBOX_CRAWL_RESOLVE", ",".join(f"{h}=127.0.0.1" for h in HOSTS.values()))
        monkeypatch.setenv("LIGHTBOX_OWN_DOMAINS", "lightbox-market.test")
        aqua, dune = copy_of("Aqua.jpg"), copy_of("Dune.jpg", crop=0.0, flip=True)
        shop, cdn = HOSTS["shop"], HOSTS["shop_cdn"]
        web.route(shop, "/", page("/img/banner.jpg", links=("/tours/beach.html", "/tours/desert.html")))
        web.route(shop, "/img/banner.jpg", jpeg(unrelated()))
        web.route(shop, "/tours/beach.html", page(web.url(cdn, "/aqua.jpg")))  # copy served from the site's CDN
        web.route(cdn, "/aqua.jpg", jpeg(aqua))
        web.route(shop, "/tours/desert.html", page("/dune.jpg"))
        web.route(shop, "/dune.jpg", jpeg(dune))
        web.route(HOSTS["licensed"], "/story.html", page("/aqua.jpg"))
        web.route(HOSTS["licensed"], "/aqua.jpg", jpeg(aqua))
        web.route(HOSTS["expired"], "/story.html", page("/aqua.jpg"))
        web.route(HOSTS["expired"], "/aqua.jpg", jpeg(aqua))
        web.route(HOSTS["own"], "/p/1.html", page("/aqua.jpg"))
        web.route(HOSTS["own"], "/aqua.jpg", jpeg(aqua))
        web.route(HOSTS["reporter"], "/thread/9.html", page("/aqua-small.jpg"))
        web.route(HOSTS["reporter"], "/aqua-small.jpg", jpeg(copy_of("Aqua.jpg", crop=0.02, long_side=400)))
        yield web


@pytest.fixture
def marketplace(conn, landing, lightbox_home, web):
    paths = install_photos(landing, {"P1": "Aqua.jpg", "P2": "Dune.jpg", "P3": "Garden.jpg"})
    with conn.cursor() as cur:
        insert_photo(cur, "P1", "U1", paths["P1"])
        insert_photo(cur, "P2", "U2", paths["P2"])
        insert_photo(cur, "P3", "U1", paths["P3"], exclusive=False)
        cur.execute("""insert into raw.licenses (license_id, photo_id, licensee, licensee_domain, starts_at, ends_at, _file_id, _line, _arrived_at)
                       values ('L1', 'P1', 'Licensed News', 'licensed-news.test', '2026-01-01', null, 0, 1, now()),
                              ('L2', 'P1', 'Expired News', 'expired-news.test', '2025-01-01', '2026-01-01', 0, 2, now())""")
        # P2 is also on another stock site: on hold; it has an open case from an earlier sweep
        cur.execute("""insert into exclusivity.violations (photo_id, site, listing_url, distance, detected_at, status)
                       values ('P2', 'otherstock', 'https://otherstock.test/l/1', 3, '2026-02-20', 'open')""")
        cur.execute("""insert into infringement.cases (case_id, photo_id, owner_id, infringer_domain, opened_at, status)
                       values ('IC-OLD', 'P2', 'U2', 'old-infringer.test', '2026-02-01', 'open')""")
        insert_seed(cur, web.url(HOSTS["shop"], "/"), max_depth=1)
        for key, path in (("licensed", "/story.html"), ("expired", "/story.html"), ("own", "/p/1.html")):
            insert_seed(cur, web.url(HOSTS[key], path), max_depth=0)
        insert_seed(cur, web.url(HOSTS["reporter"], "/thread/9.html"), source="photographer_report", max_depth=0, reported_by="U1")
    return paths


def rows(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


@pytest.mark.slow
def test_sweep_classifies_opens_cases_and_keeps_evidence(conn, marketplace, web):
    report = sweep.run_sweep(AS_OF)

    matches = {
        (host.split("/")[2].split(":")[0], photo): (status, case_id is not None)
        for host, photo, status, case_id in rows(conn, "select page_url, photo_id, status, case_id from infringement.matches")
    }
    assert matches == {
        (HOSTS["shop"], "P1"): ("case", True),
        (HOSTS["shop"], "P2"): ("exclusivity_hold", False),
        (HOSTS["licensed"], "P1"): ("licensed", False),
        (HOSTS["expired"], "P1"): ("case", True),
        (HOSTS["own"], "P1"): ("own_domain", False),
        (HOSTS["reporter"], "P1"): ("case", True),
    }
    cases = {(p, d): (s, o) for p, d, s, o in rows(conn, "select photo_id, infringer_domain, status, opened_at from infringement.cases")}
    as_of = datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert cases == {
        ("P1", "sunny-travel-blog.co.uk"): ("open", as_of),  # public-suffix aware: co.uk
        ("P1", "expired-news.test"): ("open", as_of),
        ("P1", "reported.test"): ("open", as_of),
        ("P2", "old-infringer.test"): ("paused", datetime(2026, 2, 1, tzinfo=timezone.utc)),
    }
    # one outbox message per new case and per status change, with the evidence manifest
    outbox = rows(conn, "select case_id, event, status, evidence_uri, payload from infringement.partner_outbox order by case_id")
    assert sorted((e, s) for _, e, s, _, _ in outbox) == [("case_opened", "open")] * 3 + [("case_opened", "paused")]
    for case_id, event, status, evidence_uri, payload in outbox:
        if case_id != "IC-OLD":
            assert evidence_uri and payload["evidence_uri"] == evidence_uri

    # the evidence manifest links page, image, headers, IP, fetch time and a side-by-side picture
    (evidence_uri,) = rows(conn, "select evidence_uri from infringement.cases where infringer_domain = 'sunny-travel-blog.co.uk'")[0]
    manifest = json.loads(get_bytes(evidence_uri))
    assert manifest["photo"]["photo_id"] == "P1"
    assert manifest["page"]["resolved_ip"] == "127.0.0.1" and manifest["page"]["fetched_at"]
    assert b"aqua.jpg" in get_bytes(manifest["page"]["body"]["uri"])
    assert get_bytes(manifest["image"]["body"]["uri"])[:3] == b"\xff\xd8\xff"
    assert "content-type" in json.loads(get_bytes(manifest["image"]["headers"]["uri"]))
    assert get_bytes(manifest["side_by_side"]["uri"])[:8] == b"\x89PNG\r\n\x1a\n"
    import hashlib

    assert hashlib.sha256(get_bytes(manifest["image"]["body"]["uri"])).hexdigest() == manifest["image"]["body"]["sha256"]

    # photographers see their cases
    view = rows(conn, "select photographer_id, photo_id, infringer_domain, status from infringement.photographer_cases order by 3")
    assert ("U1", "P1", "sunny-travel-blog.co.uk", "open") in view
    assert report["matches_by_status"]["case"] == 3 and len(report["new_cases"]) == 3

    # rerunning the same sweep changes nothing
    before = rows(conn, "select count(*) from infringement.partner_outbox")[0][0]
    hits = sum(web.hits.values())
    sweep.run_sweep(AS_OF)
    assert rows(conn, "select count(*) from infringement.partner_outbox")[0][0] == before
    assert sum(web.hits.values()) == hits

    # a later sweep re-sights: last_seen_at moves, first_seen_at and opened_at stay, no new messages
    sweep.run_sweep(LATER)
    later = datetime(2026, 3, 2, tzinfo=timezone.utc)
    assert rows(conn, "select distinct first_seen_at, last_seen_at from infringement.matches where status = 'case'") == [(as_of, later)]
    assert rows(conn, "select distinct opened_at, last_seen_at from infringement.cases where case_id <> 'IC-OLD'") == [(as_of, later)]
    assert rows(conn, "select count(*) from infringement.partner_outbox")[0][0] == before

    # the hold is lifted (violation dismissed): P2's sighting becomes a case
    with conn.cursor() as cur:
        cur.execute("update exclusivity.violations set status = 'dismissed'")
    sweep.run_sweep("2026-03-03T00:00:00+00:00")
    assert rows(conn, "select status from infringement.cases where photo_id = 'P2' and infringer_domain = 'sunny-travel-blog.co.uk'") == [("open",)]


def test_cases_command_lists_a_photographers_cases(conn, capsys):
    from lightbox.cli import main

    with conn.cursor() as cur:
        cur.execute("""insert into infringement.cases (case_id, photo_id, owner_id, infringer_domain, opened_at, status)
                       values ('IC-1', 'P1', 'U1', 'copycat.test', '2026-03-01', 'open'),
                              ('IC-2', 'P2', 'U2', 'other.test', '2026-03-01', 'paused')""")
    assert main(["cases", "--photographer", "U1"]) == 0
    out = capsys.readouterr().out
    assert "IC-1" in out and "copycat.test" in out and "IC-2" not in out
    assert main(["sweep-report"]) == 1  # no sweep yet: says so

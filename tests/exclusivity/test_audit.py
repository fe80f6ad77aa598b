"""The audit end to end against the real PostgreSQL, the real matching engine and safe
fetcher, and a local stock-site server: own listings become violations and holds, stolen
ones become infringement cases, bad input is recorded, reruns change nothing, and a
dismissal lifts the hold."""
import json
from datetime import timedelta

from exclusivity_fixtures import rows

from lightbox.cli import main
from lightbox.exclusivity.audit import fetch_listings, match_listings
from lightbox.exclusivity.holds import apply_holds
from lightbox.exclusivity.report import build_report, render_markdown, write_report
from lightbox.matching.catalog import sync_catalog
from lightbox.objects import get_bytes


def run_audit(conn, as_of, workers=0):
    sync_catalog(conn)
    fetched = fetch_listings(conn, as_of)
    matched = match_listings(conn, as_of, workers=workers)
    holds = apply_holds(conn, as_of)
    return fetched, matched, holds


def snapshot(conn):
    return {
        "violations": rows(conn, "select violation_id, photo_id, site, listing_url, status, evidence_uri from exclusivity.violations order by 1"),
        "checks": rows(conn, "select site, listing_id, status, reason, photo_id from exclusivity.listing_checks order by 1, 2"),
        "errors": rows(conn, "select site, kind, reason from exclusivity.feed_errors order by 1, 2, 3"),
        "cases": rows(conn, "select case_id, photo_id, infringer_domain, status, status_reason from infringement.cases order by 1"),
        "matches": rows(conn, "select photo_id, page_url, status, case_id from infringement.matches order by 1, 2"),
        "events": rows(conn, "select photo_id, event from exclusivity.hold_events order by event_id"),
        "outbox": rows(conn, "select recipient_user_id, kind, photo_id from exclusivity.notification_outbox order by 1, 2"),
    }


def test_audit_tells_own_listings_from_stolen_ones_and_holds(conn, marketplace):
    as_of = marketplace.as_of
    # A case the infringement sweep opened earlier for p1 (a blog using the photo).
    conn.cursor().execute(
        """
        insert into infringement.cases (case_id, photo_id, owner_id, infringer_domain, opened_at, status)
        values ('SWEEP-1', 'p1', 'u1', 'someblog.org', '2026-02-01', 'open');
        insert into infringement.matches (photo_id, page_url, image_url, distance, method, first_seen_at, last_seen_at, status, infringer_domain, case_id)
        values ('p1', 'http://someblog.org/post', 'http://someblog.org/a.jpg', 3, 'global', '2026-02-01', '2026-02-01', 'case', 'someblog.org', 'SWEEP-1');
        """
    )
    fetched, matched, holds = run_audit(conn, as_of)
    assert fetched["listings"] == 15 and fetched["by_site"] == {"stockhub.net": 5, "pixelstockr.com": 10}
    assert matched["listings"] == 15

    checks = {(site, lid): (status, reason, photo) for site, lid, status, reason, photo in snapshot(conn)["checks"]}
    assert checks[("stockhub.net", "101")][::2] == ("violation", "p1")  # "Alice" is alice
    assert checks[("stockhub.net", "102")][::2] == ("infringement", "p2")  # thief99 is not the owner
    assert checks[("stockhub.net", "103")][0] == "no_match"
    assert checks[("stockhub.net", "104")][0] == "no_match"  # p5 is not exclusive
    assert checks[("pixelstockr.com", "9")][::2] == ("violation", "p3")  # bob's earlier name
    assert checks[("pixelstockr.com", "18")][::2] == ("violation", "p3")  # unknown contributor: a person decides
    assert "contributor unknown" in checks[("pixelstockr.com", "18")][1]
    assert checks[("pixelstockr.com", "19")][::2] == ("held", "p3")  # stolen, but p3 is on hold: no case
    # every listing that could not be checked says why
    failures = {lid: reason for (site, lid), (status, reason, _) in checks.items() if status in ("fetch_error", "bad_image")}
    assert set(failures) == {"105", "11", "12", "13", "14", "15", "16", "17"}
    assert "404" in failures["105"] and "404" in failures["11"]
    assert "blocked_address" in failures["12"] and "metadata" in failures["13"] and "blocked_address" in failures["15"]
    assert "too_large" in failures["14"] and "not_an_image" in failures["16"] and "scheme" in failures["17"]
    # nothing was fetched from anywhere but the local server, and never the private hosts
    assert not any(host.startswith("sneaky") for host, _ in marketplace.server.requests)

    kinds = sorted((site, kind) for site, kind, _ in snapshot(conn)["errors"])
    assert kinds == [
        ("brokenstock.com", "feed_parse"),
        ("gonestock.com", "feed_unreachable"),
        ("pixelstockr.com", "bad_field"),
        ("pixelstockr.com", "duplicate_listing_id"),
        ("pixelstockr.com", "feed_shape"),
        ("pixelstockr.com", "missing_field"),
    ]

    violations = rows(
        conn,
        "select photo_id, site, contributor, status, listing_predates_upload, method, evidence_uri"
        " from exclusivity.violations order by photo_id, listing_id",
    )
    assert [(v[0], v[1], v[3], v[4]) for v in violations] == [
        ("p1", "stockhub.net", "open", True),  # listed 2025-05-01, uploaded 2025-06-01
        ("p3", "pixelstockr.com", "open", None),  # listing 18 has no date
        ("p3", "pixelstockr.com", "open", False),
    ]
    manifest = json.loads(get_bytes(violations[0][6]))
    assert manifest["match"]["photo_id"] == "p1" and manifest["listing_page"]["sha256"]
    assert get_bytes(manifest["image"]["uri"])[:3] == b"\xff\xd8\xff"
    assert manifest["image"]["resolved_ip"] == "127.0.0.1" and manifest["hashes"]["h64"]

    cases = {c[0]: c for c in snapshot(conn)["cases"]}
    stolen = [c for c in cases.values() if c[1] == "p2"]
    assert [(c[2], c[3]) for c in stolen] == [("stockhub.net", "open")]
    assert not any(c[1] == "p3" for c in cases.values())  # held photo: no new case
    assert cases["SWEEP-1"][3] == "paused" and "exclusivity hold" in cases["SWEEP-1"][4]
    matches = {(m[0], m[1]): m for m in snapshot(conn)["matches"]}
    assert matches[("p1", "http://someblog.org/post")][2] == "exclusivity_hold"
    assert [m[2] for k, m in matches.items() if k[0] == "p3"] == ["exclusivity_hold"]
    assert [m[2] for k, m in matches.items() if k[0] == "p2"] == ["case"]
    assert holds["placed"] == 2 and holds["cases_paused"] == 1
    # the enforcement partners hear of the pause (and of the new case) at once
    outbox = rows(conn, "select case_id, status from infringement.partner_outbox order by message_id")
    assert ("SWEEP-1", "paused") in outbox and (stolen[0][0], "open") in outbox
    assert snapshot(conn)["outbox"] == [
        ("u1", "exclusivity_hold_placed", "p1"),
        ("u2", "exclusivity_hold_placed", "p3"),
    ]

    # Rerunning the whole audit for the same interval changes nothing.
    before = snapshot(conn)
    run_audit(conn, as_of)
    assert snapshot(conn) == before

    # A person dismisses p1's violation: the hold lifts, the paused case resumes.
    [(p1_violation,)] = rows(conn, "select violation_id from exclusivity.violations where photo_id = 'p1'")
    assert main(["violations", "dismiss", str(p1_violation), "--by", "ines", "--note", "sold there before exclusivity"]) == 0
    assert rows(conn, "select status, status_reason like 'exclusivity hold lifted%%' from infringement.cases where case_id = 'SWEEP-1'") == [("open", True)]
    assert rows(conn, "select status from infringement.matches where page_url = 'http://someblog.org/post'") == [("case",)]
    assert rows(conn, "select status from infringement.partner_outbox where case_id = 'SWEEP-1' order by message_id desc limit 1") == [("open",)]
    assert rows(conn, "select decided_by, decision_note, status from exclusivity.violations where violation_id = %s", p1_violation) == [
        ("ines", "sold there before exclusivity", "dismissed")
    ]
    assert rows(conn, "select photo_id from exclusivity.holds order by 1") == [("p3",)]
    # confirming one of p3's violations keeps its hold; dismissing needs a note
    p3_ids = [r[0] for r in rows(conn, "select violation_id from exclusivity.violations where photo_id = 'p3' order by 1")]
    assert main(["violations", "confirm", str(p3_ids[0]), "--by", "ines"]) == 0
    assert main(["violations", "dismiss", str(p3_ids[1]), "--by", "ines", "--note", " "]) == 2
    assert main(["violations", "confirm", "999999", "--by", "ines"]) == 2
    assert rows(conn, "select photo_id from exclusivity.holds") == [("p3",)]
    assert [e[1] for e in snapshot(conn)["events"] if e[0] == "p1"] == ["placed", "lifted"]
    assert ("u1", "exclusivity_hold_lifted", "p1") in snapshot(conn)["outbox"]

    # The next audit finds the dismissed listing again and leaves it dismissed: no new hold.
    later = as_of + timedelta(days=2)
    run_audit(conn, later)
    assert rows(conn, "select status from exclusivity.violations where violation_id = %s", p1_violation) == [("dismissed",)]
    assert [e[1] for e in snapshot(conn)["events"] if e[0] == "p1"] == ["placed", "lifted"]

    report = build_report(conn, later)
    assert report["listings_checked"] == 15
    assert {s["site"]: s["listings_checked"] for s in report["sites"]} == {"pixelstockr.com": 10, "stockhub.net": 5}
    by_photographer = {r["photographer_id"]: r for r in report["violations_by_photographer"]}
    assert by_photographer["u1"]["dismissed"] == 1 and by_photographer["u2"]["violations"] == 2
    assert report["holds"]["placed"] == 2 and report["holds"]["lifted"] == 1 and report["holds"]["photos_on_hold_now"] == 1
    text = render_markdown(report)
    assert "Listings checked per site" in text and "pixelstockr.com" in text and "bobby_old" not in text
    uri = write_report(conn, later)
    assert get_bytes(uri).decode() == render_markdown(build_report(conn, later))


def test_violations_cli_list_and_report(conn, marketplace, capsys):
    assert main(["violations", "report"]) == 1  # no audit yet
    # with worker processes this time (the DAG uses them for large audits)
    _, matched, _ = run_audit(conn, marketplace.as_of, workers=2)
    assert matched["outcomes"]["violation"] == 3 and matched["outcomes"]["infringement"] == 1
    write_report(conn, marketplace.as_of)
    capsys.readouterr()
    assert main(["violations", "list", "--status", "open"]) == 0
    out = capsys.readouterr().out
    assert "stockhub.net" in out and "pixelstockr.com" in out and "p3" in out
    assert main(["violations", "report"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Exclusivity audit") and "holds placed 2" in out

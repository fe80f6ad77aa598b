"""Overlapping AI scans are safe, and the photographer's view of them
(``licensing.submission_status``) says where each submitted photo is and when each step
happened. Real PostgreSQL, a real champion."""
import threading
from datetime import datetime, timedelta, timezone

import pytest
from aiscan_market import SCAN_AT

from ml import score

UTC = timezone.utc
JAN = datetime(2026, 1, 2, tzinfo=UTC)


def rows(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


@pytest.fixture
def submissions(history_market, trained):
    m = history_market
    m.user("ph", auto_licensing=False)
    m.user("auto", auto_licensing=True)
    m.photo("s_good", "ph", JAN, kind="sharp", n=1)
    m.photo("s_good2", "ph", JAN, kind="sharp", n=5)
    m.photo("s_dark", "ph", JAN, kind="dark", n=2)
    m.photo("s_people", "ph", JAN, kind="sharp", n=4, has_people=True, model_release=False)
    m.photo("s_auto", "auto", JAN, kind="sharp", n=6, submitted_for_licensing=False)
    m.photo("s_removed", "ph", JAN, kind="sharp", n=3, removed_from_licensing=True)
    m.photo("not_submitted", "ph", JAN, kind="sharp", n=7, submitted_for_licensing=False)
    return m


def _scan_at_once(db_url, n=2):
    """``n`` scans of the same photos at the same moment, each on its own connection."""
    from lightbox import db

    barrier = threading.Barrier(n)
    errors = []

    def one():
        conn = db.connect(db_url)
        try:
            barrier.wait()
            score.score_submissions(conn, SCAN_AT)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@pytest.mark.slow
def test_overlapping_scans_score_and_queue_each_photo_once(submissions, db_url):
    conn = submissions.conn
    _scan_at_once(db_url)
    ours = "photo_id like 's\\_%%'"
    scored = rows(conn, f"select photo_id, count(*) from licensing.scores where {ours} group by photo_id")
    assert sorted(scored) == [(p, 1) for p in ["s_auto", "s_dark", "s_good", "s_good2", "s_people"]]
    queued = rows(conn, f"select photo_id from licensing.review_queue where {ours} order by photo_id")
    decided = dict(rows(conn, f"select photo_id, decision from licensing.scores where {ours}"))
    assert [q[0] for q in queued] == sorted(p for p, d in decided.items() if d == "under_review")
    assert decided["s_dark"] == "not_suitable" and decided["s_people"] == "changes_required"

    # and a third scan, after both, changes nothing
    before = rows(conn, "select photo_id, model_version, decision, written_at from licensing.scores order by 1")
    _scan_at_once(db_url, n=1)
    assert rows(conn, "select photo_id, model_version, decision, written_at from licensing.scores order by 1") == before


@pytest.mark.slow
def test_submission_status_tells_each_step_and_its_time(submissions, db_url):
    conn = submissions.conn
    status = lambda: {r[0]: r[1:] for r in rows(  # noqa: E731
        conn, "select photo_id, status, scan_decision, scan_reasons, landed_at, scanned_at, queued_at, decided_at, "
              "removed_at, scan_seconds from licensing.submission_status where photo_id like 's\\_%%'")}

    before = status()
    assert "not_submitted" not in before
    assert {p: s[0] for p, s in before.items()} == {
        "s_good": "waiting_for_scan", "s_good2": "waiting_for_scan", "s_dark": "waiting_for_scan",
        "s_people": "waiting_for_scan", "s_auto": "waiting_for_scan", "s_removed": "removed"}
    assert before["s_removed"][7] == JAN  # removed_at: the marketplace's time of the removal

    _scan_at_once(db_url, n=1)
    after = status()
    assert after["s_good"][0] == "in_review" and after["s_good"][1] == "under_review"
    assert after["s_auto"][0] == "in_review"
    assert after["s_dark"][:2] == ("scanned", "not_suitable")
    assert any("below" in r["text"] for r in after["s_dark"][2])  # the reason, in words
    assert after["s_people"][:2] == ("scanned", "changes_required")
    assert any("model release" in r["text"] for r in after["s_people"][2])
    for photo in ("s_good", "s_dark"):
        _, _, _, landed_at, scanned_at, _, _, _, seconds = after[photo]
        assert landed_at <= scanned_at and seconds >= 0  # written after it landed, never before
    assert after["s_good"][5] == SCAN_AT  # queued at the scan's time

    # an inspector claims s_good and decides s_good2 (the inspector app's writes)
    with conn.cursor() as cur:
        cur.execute("update licensing.review_queue set status = 'claimed', claimed_by = 'i1', claimed_at = %s "
                    "where photo_id = 's_good'", (SCAN_AT + timedelta(hours=1),))
        cur.execute("update licensing.review_queue set status = 'decided', decision = 'accepted', decided_at = %s "
                    "where photo_id = 's_good2'", (SCAN_AT + timedelta(hours=2),))
    submissions.update_photo("s_auto", removed_from_licensing=True)
    final = status()
    assert final["s_good"][0] == "in_review"
    assert final["s_good2"][0] == "decided" and final["s_good2"][6] == SCAN_AT + timedelta(hours=2)
    assert final["s_auto"][0] == "removed"

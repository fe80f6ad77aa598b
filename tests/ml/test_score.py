"""The AI scan: who is eligible, each routing rule, removal during the scan, bad input,
idempotency and re-prioritisation by a new champion."""
from datetime import datetime, timedelta, timezone

import pytest
from aiscan_market import SCAN_AT

from ml import score
from ml.registry import Head, Model

UTC = timezone.utc
JAN = datetime(2026, 1, 2, tzinfo=UTC)


def scan_conn(db_url):
    from lightbox import db

    return db.connect(db_url)


def rows(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


@pytest.fixture
def scanned_market(history_market, trained, db_url):
    m = history_market
    m.user("auto", auto_licensing=True, default_exclusive=True)
    m.user("late", auto_licensing=False)
    m.user("late", auto_licensing=True, at=datetime(2025, 12, 1, tzinfo=UTC))
    m.user("quit", auto_licensing=True)
    m.user("quit", auto_licensing=False, at=datetime(2026, 1, 5, tzinfo=UTC))
    m.user("never", auto_licensing=False)
    auto = dict(submitted_for_licensing=False)
    m.photo("a_good", "auto", JAN, kind="sharp", n=1, **auto)
    m.photo("a_dark", "auto", JAN, kind="dark", n=2, **auto)
    m.photo("a_blur", "auto", JAN, kind="blurred", n=3, **auto)
    m.photo("a_people", "auto", JAN, kind="sharp", n=4, has_people=True, model_release=False, **auto)
    m.photo("a_prop", "auto", JAN, kind="sharp", n=5, has_property=True, property_release=False, **auto)
    m.photo("a_people_ok", "auto", JAN, kind="sharp", n=6, has_people=True, model_release=True, exclusive=False, **auto)
    m.photo("late_before", "late", datetime(2025, 11, 15, tzinfo=UTC), **auto)
    m.photo("late_after", "late", JAN, kind="sharp", n=7, **auto)
    m.photo("quit_before", "quit", JAN, **auto)
    m.photo("quit_after", "quit", datetime(2026, 1, 10, tzinfo=UTC), **auto)
    m.photo("never_auto", "never", JAN, **auto)
    m.photo("never_hand", "never", JAN, kind="sharp", n=1)
    m.photo("deleted", "auto", JAN, deleted_at=JAN + timedelta(hours=1), **auto)
    m.photo("removed", "never", JAN, removed_from_licensing=True)
    m.photo("future", "never", SCAN_AT + timedelta(minutes=1))
    m.photo("ghost_owner", "ghost", JAN)
    m.photo("no_image", "never", JAN, image_path="images/does-not-exist.jpg")
    m.photo("odd_meta", "never", JAN, kind="sharp", n=2, keywords=None, category="underwater basket weaving",
            iso=10**9, exposure_s=-3, width=-5)
    m.photo("removed_during", "never", JAN, kind="sharp", n=3)
    m.user("gone", auto_licensing=True)
    m.user("gone", auto_licensing=True, at=JAN, deleted_at=JAN)
    m.photo("gone_owner_photo", "gone", JAN - timedelta(days=3), submitted_for_licensing=True)
    return m


def run_scan(db_url, **kw):
    conn = scan_conn(db_url)
    try:
        return score.score_submissions(conn, SCAN_AT, **kw)
    finally:
        conn.close()


def decisions(conn):
    return dict(rows(conn, "select photo_id, decision from licensing.scores"))


def test_eligibility_and_routing(scanned_market, db_url):
    conn = scanned_market.conn

    def remove_during_scan(photo_ids):
        assert "removed_during" in photo_ids
        scanned_market.update_photo("removed_during", removed_from_licensing=True)

    summary = run_scan(db_url, before_write=remove_during_scan)
    got = decisions(conn)
    # never scored: never opted in and never submitted; uploaded before the opt-in; after
    # an opt-out (or opted out before the scan); deleted; removed; uploaded after the scan
    for pid in ("never_auto", "late_before", "quit_after", "deleted", "removed", "future", "gone_owner_photo"):
        assert pid not in got, pid
    # uploaded while opted in: a later opt-out does not withdraw it
    assert got["quit_before"] in ("under_review", "not_suitable", "changes_required")
    # the history photos were decided by inspectors already: scored, but never queued again
    assert all(pid in got for pid in (f"h{i:04d}" for i in range(360)))
    assert got["a_good"] == "under_review"
    assert got["never_hand"] == "under_review"
    assert got["late_after"] == "under_review"
    assert got["a_people_ok"] == "under_review"
    assert got["a_dark"] == "not_suitable"
    assert got["a_blur"] == "not_suitable"
    assert got["a_people"] == "changes_required"
    assert got["a_prop"] == "changes_required"
    assert got["removed_during"] == "removed"

    queue = dict(rows(conn, "select photo_id, status from licensing.review_queue"))
    assert set(queue) == {pid for pid, d in got.items() if d == "under_review" and not pid.startswith("h")}
    assert "removed_during" not in queue and all(s == "pending" for s in queue.values())
    assert summary.queued == len(queue)
    history_reasons = rows(conn, "select reasons from licensing.scores where photo_id like 'h%%' and decision = 'under_review' limit 1")
    assert any("already decided" in r["text"] for r in history_reasons[0][0])

    # reasons in plain words, from the model's contributions and the rules
    reasons = dict(rows(conn, "select photo_id, reasons from licensing.scores"))
    dark_texts = [r["text"] for r in reasons["a_dark"]]
    assert any("dark" in t or "black" in t or "blurry" in t or "detail" in t for t in dark_texts), dark_texts
    assert any(r["kind"] == "model" and r["feature"].startswith("px_") for r in reasons["a_blur"])
    # the measured defect, named in an inspector's words
    assert any(r["kind"] == "defect" and "out of focus" in r["text"] for r in reasons["a_blur"]), reasons["a_blur"]
    assert any(r["kind"] == "defect" and "underexposed" in r["text"] for r in reasons["a_dark"]), reasons["a_dark"]
    assert not any("out of focus" in r["text"] or "underexposed" in r["text"] for r in reasons["a_good"])
    assert any("model release" in r["text"] for r in reasons["a_people"])
    assert any("property release" in r["text"] for r in reasons["a_prop"])
    assert any("removed" in r["text"] for r in reasons["removed_during"])
    odd = [r["text"] for r in reasons["odd_meta"]]
    assert "the photo has no keywords" in odd
    assert any("unknown category" in t for t in odd) and any("implausible iso" in t for t in odd)
    assert any("implausible size" in t for t in odd)

    # bad input a person can see, never a crash
    failures = dict(rows(conn, "select photo_id, reason from licensing.scan_failures"))
    assert "not a known user" in failures["ghost_owner"]
    assert "not found" in failures["no_image"]
    assert summary.failures == 2

    # priorities come from p_sale
    prio = rows(conn, """select q.priority, s.p_sale from licensing.review_queue q
                         join licensing.scores s using (photo_id)""")
    assert all(float(a) == pytest.approx(float(b)) for a, b in prio)


def test_exclusivity_follows_owner_default(scanned_market, db_url):
    run_scan(db_url)
    conn = scanned_market.conn
    excl = {r[0]: (r[1], r[2]) for r in rows(conn, "select photo_id, is_exclusive, exclusive_source from licensing.photo_exclusivity")}
    assert excl["a_good"] == (True, "owner_default")  # auto-submitted, owner's default is exclusive
    assert excl["a_people_ok"] == (False, "photo")  # the photo says otherwise
    assert excl["never_hand"] == (False, "owner_default")  # owner's default is not exclusive
    assert excl["ghost_owner"] == (False, "none")  # no owner on record


def test_rescan_is_idempotent_and_new_champion_only_reprioritises(scanned_market, trained, db_url):
    conn = scanned_market.conn
    run_scan(db_url)
    before_scores = rows(conn, "select * from licensing.scores order by photo_id")
    before_queue = rows(conn, "select photo_id, priority, status from licensing.review_queue order by photo_id")
    # an inspector claims one item, decides another
    claimed, decided = before_queue[0][0], before_queue[1][0]
    with conn.cursor() as cur:
        cur.execute("update licensing.review_queue set status='claimed', claimed_by='ines', claimed_at=now() where photo_id=%s", (claimed,))
        cur.execute("update licensing.review_queue set status='decided', decision='accepted', decided_at=now() where photo_id=%s", (decided,))
    again = run_scan(db_url)
    assert again.eligible == 2  # only the two failures are retried
    assert rows(conn, "select * from licensing.scores order by photo_id") == before_scores
    assert len(rows(conn, "select 1 from licensing.review_queue")) == len(before_queue)

    # a new champion: pending items get its priority; claimed and decided stay as they are
    newer = Model("v-next", trained.feature_names, trained.suitable, Head(None, 0.777), trained.threshold)
    c = scan_conn(db_url)
    n = score.reprioritize_pending(c, SCAN_AT, model=newer)
    c.close()
    assert n == len(before_queue) - 2
    after = {r[0]: r[1:] for r in rows(conn, "select photo_id, priority, status, model_version from licensing.review_queue")}
    assert after[claimed][1] == "claimed" and after[claimed][2] != "v-next"
    assert after[decided][1] == "decided" and after[decided][2] != "v-next"
    pending = [v for k, v in after.items() if k not in (claimed, decided)]
    assert all(float(p) == pytest.approx(0.777) and mv == "v-next" for p, _, mv in pending)
    assert rows(conn, "select * from licensing.scores order by photo_id") == before_scores  # routing stands


def test_no_champion_scores_nothing(market, db_url):
    market.user("never")
    market.photo("p", "never", JAN)
    summary = run_scan(db_url)
    assert summary.model_version is None and not decisions(market.conn)


def test_champion_that_does_not_load_fails_the_scan_loudly(scanned_market, db_url):
    from lightbox.objects import put_bytes
    from ml import registry

    conn = scanned_market.conn
    version, uri = registry.champion(conn)
    put_bytes(uri, b"truncated")
    with pytest.raises(registry.ModelLoadError, match="failed to load"):
        run_scan(db_url)
    assert registry.champion(conn)[0] == version  # still the champion; nothing was scored
    assert not decisions(conn)

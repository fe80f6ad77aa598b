"""Features: the leakage guard (owner history only from before the upload) and bad metadata."""
import math
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from ml import features as F

UTC = timezone.utc
D = datetime(2025, 6, 1, tzinfo=UTC)


def _features(conn, photo_id):
    _, feats = F.features_for(conn, photo_ids=[photo_id], with_pixels=False)
    return feats.iloc[0]


def test_owner_history_uses_only_events_before_the_upload(market):
    m = market
    m.user("o")
    m.photo("old1", "o", D - timedelta(days=30))
    m.photo("old2", "o", D - timedelta(days=20))
    m.photo("target", "o", D)
    m.decide("old1", "accepted", D - timedelta(days=25))
    m.decide("old2", "rejected", D - timedelta(days=1))
    m.sale("s1", "old1", D - timedelta(days=5))
    m.user("y")  # another photographer, decided before the upload: counts in the global rate only
    m.photo("y1", "y", D - timedelta(days=40))
    m.decide("y1", "accepted", D - timedelta(days=10))
    before = _features(m.conn, "target")
    assert before["owner_prior_photos"] == 2
    assert before["owner_prior_decisions"] == 2
    assert before["owner_prior_accept_rate"] == 0.5
    assert before["owner_prior_sales"] == 1
    # shrunk towards the global rate before the upload (2 of 3 accepted), with k pseudo-decisions
    k = F.SHRINK_DECISIONS
    assert before["owner_accept_rate_shrunk"] == pytest.approx((1 + k * 2 / 3) / (2 + k))

    # everything that happens at or after the upload must not change the photo's features:
    # later uploads, decisions (its own included), sales, an event at the very same instant
    m.photo("later", "o", D + timedelta(days=1))
    m.photo("same_instant", "o", D)
    m.decide("target", "accepted", D + timedelta(days=2))
    m.decide("old1", "rejected", D + timedelta(days=3))
    m.decide("later", "accepted", D)
    m.sale("s2", "old1", D)
    m.sale("s3", "target", D + timedelta(days=10))
    # ...and other photographers' decisions at or after the upload (the global rate)
    m.decide("y1", "rejected", D)
    m.photo("y2", "y", D - timedelta(days=30))
    m.decide("y2", "rejected", D + timedelta(days=1))
    after = _features(m.conn, "target")
    for col in ("owner_prior_photos", "owner_prior_decisions", "owner_prior_accept_rate", "owner_prior_sales",
                "owner_accept_rate_shrunk"):
        assert after[col] == before[col], col

    # another owner's history never leaks into the owner's own counts
    m.user("x")
    m.photo("x1", "x", D - timedelta(days=3))
    m.decide("x1", "accepted", D - timedelta(days=2))
    assert _features(m.conn, "target")["owner_prior_photos"] == 2


def test_owner_history_pure_function_on_ties():
    t = pd.Timestamp("2025-01-01", tz="UTC")
    photos = pd.DataFrame({"photo_id": ["a", "b"], "owner_id": ["o", "o"], "uploaded_at": [t, t + pd.Timedelta(days=1)]})
    decisions = pd.DataFrame({"photo_id": ["a"], "owner_id": ["o"], "decision": ["accepted"],
                              "decided_at": [t + pd.Timedelta(days=1)]})
    sales = pd.DataFrame({"photo_id": [], "owner_id": [], "sold_at": pd.to_datetime([], utc=True)})
    out = F.owner_history(photos, decisions, sales, photos)
    assert list(out["owner_prior_photos"]) == [0, 1]
    assert list(out["owner_prior_decisions"]) == [0, 0]  # decided at b's upload instant: not before it
    assert math.isnan(out["owner_prior_accept_rate"][1])
    assert out["owner_accept_rate_shrunk"].isna().all()  # no decision anywhere before: no rate to shrink to


def test_shrunk_rate_moves_from_the_global_rate_to_the_photographers_own():
    t = pd.Timestamp("2025-01-01", tz="UTC")
    day = pd.Timedelta(days=1)
    # "rest": one in four accepted, all decided in the month before; "pro": every photo accepted,
    # one decision every 8 hours from t; "pro" uploads after 1, 3 and 40 decisions of their own
    rows = [("pro", f"p{i}", "accepted", t + i * day / 3) for i in range(40)]
    rows += [("rest", f"r{i}", "rejected" if i % 4 else "accepted", t - 30 * day + i * day / 4) for i in range(120)]
    decisions = pd.DataFrame(rows, columns=["owner_id", "photo_id", "decision", "decided_at"])
    photos = pd.DataFrame({"photo_id": ["a", "b", "c"], "owner_id": ["pro"] * 3,
                           "uploaded_at": [t + day / 6, t + day, t + 14 * day]})
    sales = pd.DataFrame({"photo_id": [], "owner_id": [], "sold_at": pd.to_datetime([], utc=True)})
    out = F.owner_history(photos, decisions, sales, photos)
    raw, shrunk = out["owner_prior_accept_rate"].tolist(), out["owner_accept_rate_shrunk"].tolist()
    assert raw[1] == 1.0 and raw[2] == 1.0
    assert shrunk[0] < shrunk[1] < shrunk[2] < 1.0  # more record, closer to their own rate
    assert shrunk[1] < 0.75 < shrunk[2]  # 3 decisions say little; 40 say a lot


def test_bad_metadata_becomes_notes_not_errors():
    feats, notes = F.metadata_row({"keywords": " ; ", "category": "Moon", "iso": "1e12", "aperture": 0,
                                   "exposure_s": "abc", "width": 10**6, "height": 10**6, "title": None})
    assert math.isnan(feats["log_iso"]) and math.isnan(feats["aperture"]) and math.isnan(feats["width"])
    assert feats["category_code"] == -1 and feats["keyword_count"] == 0
    assert "the photo has no keywords" in notes
    assert any("unknown category" in n for n in notes)
    assert any("implausible iso" in n for n in notes) and any("implausible size" in n for n in notes)

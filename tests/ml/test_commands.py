"""`lightbox models list|promote|rollback` and `lightbox photos set-exclusive`."""
from datetime import datetime, timezone

import pytest
from aiscan_market import SCAN_AT, TRAIN_AS_OF

from lightbox.cli import main
from lightbox.objects import put_bytes
from lightbox.photos import ScanInProgress, set_exclusive
from ml import registry, score

UTC = timezone.utc


def test_models_promote_and_rollback(trained, db_url, capsys):
    conn = trained and __import__("lightbox.db", fromlist=["connect"]).connect(db_url)
    conn.autocommit = True
    first = registry.champion(conn)[0]
    second_uri = registry.models_base("v2") + "/model.json"
    put_bytes(second_uri, registry.Model("v2", trained.feature_names, trained.suitable, trained.sale).to_bytes())
    registry.register(conn, "v2", TRAIN_AS_OF, {"p_suitable": {"roc_auc": 0.5}}, second_uri, None)
    broken_uri = registry.models_base("broken") + "/model.json"
    put_bytes(broken_uri, b"garbage")
    registry.register(conn, "broken", TRAIN_AS_OF, {}, broken_uri, None)

    assert main(["models", "promote", "v2", "--by", "ana", "--why", "test"]) == 0
    assert registry.champion(conn)[0] == "v2"
    assert main(["models", "promote", "broken", "--by", "ana"]) == 1  # does not load: refused
    assert "failed to load" in capsys.readouterr().err
    assert registry.champion(conn)[0] == "v2"
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "* v2" in out and first in out and "broken" in out
    assert main(["models", "rollback", "--by", "ana"]) == 0
    assert registry.champion(conn)[0] == first
    with conn.cursor() as cur:
        cur.execute("select version, previous_version, promoted_by from licensing.model_promotions order by promotion_id")
        trail = cur.fetchall()
    assert trail[-2:] == [("v2", first, "ana"), (first, "v2", "ana")]
    conn.close()


def test_set_exclusive_waits_for_the_scan(history_market, trained, db_url, capsys):
    from lightbox import db

    m = history_market
    m.user("auto", auto_licensing=True, default_exclusive=False)
    m.photo("p1", "auto", datetime(2026, 1, 2, tzinfo=UTC), submitted_for_licensing=False)
    conn = db.connect(db_url)
    with pytest.raises(ScanInProgress):
        set_exclusive(conn, "p1", True, "sam", "photographer asked", at=SCAN_AT)
    assert main(["photos", "set-exclusive", "p1", "true", "--by", "sam", "--why", "asked"]) == 1
    assert "AI scan" in capsys.readouterr().err
    score.score_submissions(conn, SCAN_AT)
    result = set_exclusive(conn, "p1", True, "sam", "photographer asked", at=SCAN_AT)
    assert result["previous"] is False
    assert main(["photos", "set-exclusive", "p1", "false", "--by", "kim", "--why", "undo"]) == 0
    with conn.cursor() as cur:
        cur.execute("select is_exclusive, exclusive_source, changed_by, change_reason from licensing.photo_exclusivity where photo_id='p1'")
        assert cur.fetchone() == (False, "support_change", "kim", "undo")
        cur.execute("select exclusive, previous_exclusive, changed_by from licensing.exclusivity_changes order by change_id")
        assert cur.fetchall() == [(True, False, "sam"), (False, True, "kim")]
    assert set_exclusive and main(["photos", "set-exclusive", "nope", "true", "--by", "a", "--why", "b"]) == 1
    conn.close()

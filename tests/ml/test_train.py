"""Training: a registered, calibrated version with baselines, artifacts and a report; the
promotion rule; a broken artifact never becomes champion."""

import pytest
from aiscan_market import TRAIN_AS_OF

from lightbox.objects import exists, get_bytes, put_bytes
from ml import registry, train


def test_train_registers_promotes_and_reports(history_market, lightbox_home):
    conn = history_market.conn
    result = train.train(conn, TRAIN_AS_OF)
    m = result.metrics
    assert result.created
    # evaluated on the newest period, with both baselines (no champion yet)
    assert m["rows"]["test"] > 30
    assert set(m["baselines"]) == {"lightgbm_no_pixels", "logistic_metadata"}
    for key in ("roc_auc", "pr_auc", "brier", "log_loss", "ece"):
        assert m["p_suitable"][key] is not None
    # inspectors decide on image quality: the model sees it, metadata alone cannot
    assert m["p_suitable"]["roc_auc"] > 0.8
    assert m["p_suitable"]["roc_auc"] > m["baselines"]["logistic_metadata"]["roc_auc"] + 0.1
    assert m["pixel_lift_roc_auc"] > 0.1
    assert m["p_sale"].get("roc_auc") is not None or "prior" in m["p_sale"].get("note", "")
    # routing by the configured target: the threshold recorded with the model passes at least
    # 97% of the accepted photos of the calibration slice, and what it removes is reported
    routing = m["routing"]
    assert routing["pass_accepted"] == 0.97 and "97%" in routing["target"]
    assert routing["calibration_slice"]["accepted_passed"] >= 0.97
    assert routing["test"]["rejected_removed"] > 0
    model = registry.load_model(result.artifact_uri)
    assert model.threshold == routing["threshold"] > 0
    base = result.artifact_uri.rsplit("/", 1)[0]
    assert base.startswith(registry.models_base(result.version))
    for name in ("model.json", "metrics.json", "report.html", "roc.png", "calibration.png", "importance.png"):
        assert exists(f"{base}/{name}"), name
    assert get_bytes(f"{base}/roc.png")[:4] == b"\x89PNG"
    assert "ROC" in get_bytes(result.report_uri).decode()

    outcome = train.promote_if_better(conn, result.version)
    assert outcome["promoted"] and registry.champion(conn)[0] == result.version
    # same data, same code: the same version, nothing retrained
    again = train.train(conn, TRAIN_AS_OF)
    assert again.version == result.version and not again.created

    # new labels (the inspector app): a new version, evaluated against the champion
    history_market.photo("late1", "pro1", TRAIN_AS_OF.replace(month=1, day=1).replace(year=2025, month=12, day=20), kind="sharp")
    with conn.cursor() as cur:
        cur.execute("""insert into licensing.decisions (photo_id, inspector_id, decision, decided_at)
                       values ('late1', 'app', 'accepted', '2025-12-22T00:00:00Z')""")
    second = train.train(conn, TRAIN_AS_OF)
    assert second.version != result.version
    assert second.metrics["champion"]["version"] == result.version
    assert second.metrics["baselines"]["champion"]["roc_auc"] is not None

    # a broken artifact: loud failure, the champion stays
    put_bytes(second.artifact_uri, b"{not json")
    with pytest.raises(registry.ModelLoadError):
        train.promote_if_better(conn, second.version)
    assert registry.champion(conn)[0] == result.version


def test_too_few_labels_is_a_clear_error(market, lightbox_home):
    market.user("a")
    market.photo("p1", "a", TRAIN_AS_OF.replace(year=2025))
    market.decide("p1", "accepted", TRAIN_AS_OF.replace(year=2025, month=2))
    with pytest.raises(train.InsufficientData):
        train.train(market.conn, TRAIN_AS_OF)


def test_routing_threshold_meets_the_target_on_the_slice_it_is_chosen_on():
    import numpy as np

    rng = np.random.default_rng(3)
    for n in (7, 50, 333):
        p = rng.uniform(0, 1, n)
        for target in (0.9, 0.97, 1.0):
            t = train.routing_threshold(p, target)
            assert (p >= t).mean() >= target
            assert (p > t).mean() < target or t == p.max()  # the highest such threshold
    report = train.routing_report(np.array([1, 1, 0, 0, 0]), np.array([0.9, 0.6, 0.5, 0.2, 0.1]), 0.55)
    assert report["accepted_passed"] == 1.0 and report["rejected_removed"] == 1.0


def test_metrics_helpers():
    import numpy as np

    y = np.array([0, 0, 1, 1])
    m = train.binary_metrics(y, np.array([0.1, 0.2, 0.8, 0.9]))
    assert m["roc_auc"] == 1.0 and m["ece"] == pytest.approx(0.15)
    assert train.time_split(100)[3] == slice(85, 100)

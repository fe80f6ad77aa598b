"""Training of the AI scan: ``p_suitable`` (inspectors accept rather than reject) and
``p_sale`` (an accepted photo sells within 90 days of acceptance), LightGBM with a time split,
early stopping and calibration on a held-out slice (isotonic, or Platt scaling when the
slice is small), against two baselines in the same run: a
metadata-only logistic regression and the current champion (plus LightGBM without pixel
features, to show what the pixels add).

Time split of the labelled photos, ordered by upload time (oldest first):
``train`` 60 % | ``valid`` 15 % (early stopping) | ``calib`` 10 % (routing threshold) |
``test`` 15 %, the newest period, where every model (baselines and champion) is evaluated.
Calibration is fitted on ``valid`` and ``calib`` together (:func:`held_out`).

Labels: the latest inspector decision per photo, from ``raw.inspections`` and
``licensing.decisions`` (the inspector app), decided at or before ``as_of``.
``accepted`` is suitable, ``rejected`` is not; ``changes_required`` (a missing release, which
the routing rules handle) says nothing about suitability and is left out of ``p_suitable``.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

from ml import features as F
from ml.registry import Head, Model, ModelLoadError

log = logging.getLogger(__name__)

SALE_WINDOW = timedelta(days=90)
SPLIT = (0.60, 0.15, 0.10, 0.15)  # train, valid, calib, test
MIN_LABELS = 40
CODE_VERSION = "aiscan-5"


class InsufficientData(RuntimeError):
    """Too few labels (or one class only) to train or evaluate honestly."""


@dataclass
class TrainResult:
    version: str
    metrics: dict
    artifact_uri: str
    report_uri: str
    created: bool  # False: this version was already registered (idempotent rerun)


# ----------------------------------------------------------------------------- metrics
def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            ece += mask.mean() * abs(p[mask].mean() - y[mask].mean())
    return float(ece)


def binary_metrics(y, p) -> dict:
    from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

    y = np.asarray(y, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    out = {"n": int(len(y)), "positives": int(y.sum())}
    if len(np.unique(y)) < 2:
        return out | {"roc_auc": None, "pr_auc": None, "brier": float(np.mean((p - y) ** 2)),
                      "log_loss": None, "ece": expected_calibration_error(y, p)}
    return out | {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "ece": expected_calibration_error(y, p),
    }


# ----------------------------------------------------------------------------- data
def labelled_dataset(conn, as_of, workers: int = 2, with_pixels: bool = True) -> pd.DataFrame:
    """Features + labels of every photo with an inspector decision by ``as_of``, ordered by
    upload time. Columns: the features, ``y_suitable``, ``y_sale`` (NaN where unknown),
    ``uploaded_at``, ``decided_at``."""
    decisions = F.load_decisions(conn, as_of)
    if decisions.empty:
        raise InsufficientData("no inspector decisions yet: nothing to learn from")
    latest = decisions.sort_values(["decided_at", "decision"]).groupby("photo_id").tail(1)
    photos, feats = F.features_for(conn, photo_ids=latest["photo_id"].tolist(), as_of=as_of,
                                   with_pixels=with_pixels, workers=workers)
    feats = feats.merge(photos[["photo_id", "uploaded_at"]], on="photo_id")
    feats = feats.merge(latest[["photo_id", "decision", "decided_at"]], on="photo_id")
    feats["y_suitable"] = np.where(feats["decision"] == "changes_required", np.nan,
                                   (feats["decision"] == "accepted").astype(float))
    sales = F.load_sales(conn, as_of)
    first_sale = sales.merge(latest[["photo_id", "decided_at"]], on="photo_id")
    first_sale = first_sale[(first_sale["sold_at"] >= first_sale["decided_at"])
                            & (first_sale["sold_at"] <= first_sale["decided_at"] + SALE_WINDOW)]
    sold = set(first_sale["photo_id"])
    as_of_ts = pd.Timestamp(as_of)
    observable = (feats["decision"] == "accepted") & (feats["decided_at"] + SALE_WINDOW <= as_of_ts)
    feats["y_sale"] = np.where(observable, feats["photo_id"].isin(sold).astype(float), np.nan)
    return feats.sort_values(["uploaded_at", "photo_id"]).reset_index(drop=True)


def time_split(n: int) -> list[slice]:
    bounds = np.cumsum([0, *SPLIT])
    cuts = [int(round(b * n)) for b in bounds]
    cuts[-1] = n
    return [slice(cuts[i], cuts[i + 1]) for i in range(4)]


# ----------------------------------------------------------------------------- models
def _lgb_params(n_train: int, seed: int, threads: int) -> dict:
    return {
        "objective": "binary",
        "learning_rate": 0.05,
        "num_leaves": 15,
        "min_data_in_leaf": max(5, min(40, n_train // 40)),
        "feature_fraction": 0.9,
        "bagging_fraction": 0.9,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        # small data trains fastest on one thread, and OpenMP spin-waiting on a busy shared
        # machine (or in a forked task process) can make more threads many times slower
        "num_threads": threads if n_train >= 20_000 else 1,
        "verbose": -1,
    }


def fit_lgbm(X_tr, y_tr, X_va, y_va, names, seed=7, threads=2, rounds=600):
    import lightgbm as lgb

    cats = [names.index("category_code")] if "category_code" in names else []
    dtrain = lgb.Dataset(X_tr, y_tr, feature_name=list(names), categorical_feature=cats, free_raw_data=False)
    dvalid = lgb.Dataset(X_va, y_va, reference=dtrain)
    booster = lgb.train(
        _lgb_params(len(y_tr), seed, threads), dtrain, num_boost_round=rounds, valid_sets=[dvalid],
        callbacks=[lgb.early_stopping(40, verbose=False)],
    )
    booster.best_iteration = booster.best_iteration or booster.current_iteration()
    # keep only the rounds early stopping chose: the saved model is the evaluated one
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=booster.best_iteration))


ISOTONIC_MIN = 300  # below this many calibration photos, Platt scaling (2 parameters) overfits less


def held_out(va: slice, ca: slice) -> slice:
    """The photos no tree was fitted on (the early-stopping and calibration slices together),
    on which the calibration map is fitted: on the generated set, Platt scaling on the
    calibration slice alone (180 photos) left an ECE of 0.050 on the test photos, isotonic
    regression on both slices (450 photos) 0.033 (docs/aiscan.md). Early stopping only chose the number of trees on the
    first, so it is held out from the fit all the same; the routing threshold is still
    chosen on the calibration slice alone."""
    return slice(va.start, ca.stop)


def calibrate(head: Head, raw: np.ndarray, y: np.ndarray) -> Head:
    """Fit the head's calibration on the held-out calibration slice: isotonic with enough
    photos, Platt scaling on small slices, none with a single class."""
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(y)) < 2 or len(y) < 10:
        return head
    if len(y) >= ISOTONIC_MIN:
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
        head.calib_x, head.calib_y = list(map(float, iso.X_thresholds_)), list(map(float, iso.y_thresholds_))
    else:
        z = np.log(np.clip(raw, 1e-6, 1 - 1e-6) / (1 - np.clip(raw, 1e-6, 1 - 1e-6))).reshape(-1, 1)
        lr = LogisticRegression(C=1.0).fit(z, y)
        head.platt = [float(lr.coef_[0][0]), float(lr.intercept_[0])]
    return head


def routing_threshold(p_accepted: np.ndarray, target: float) -> float:
    """The highest threshold that passes at least ``target`` of ``p_accepted`` (calibrated
    p_suitable of photos inspectors accepted): ``p >= threshold`` passes."""
    p = np.sort(np.asarray(p_accepted, dtype=float))
    if len(p) == 0:
        return 0.0
    k = int(math.floor((1.0 - target) * len(p) + 1e-9))  # this many accepted photos may fall below
    return float(p[min(k, len(p) - 1)])


def routing_report(y: np.ndarray, p: np.ndarray, threshold: float) -> dict:
    """What routing at ``threshold`` does to photos with known decisions: the share of
    accepted photos it passes and the share of rejected ones it removes."""
    y = np.asarray(y, dtype=float)
    passed = np.asarray(p, dtype=float) >= threshold
    acc, rej = y == 1, y == 0
    return {
        "n": int(len(y)),
        "accepted_passed": float(passed[acc].mean()) if acc.any() else None,
        "rejected_removed": float((~passed[rej]).mean()) if rej.any() else None,
        "removed": float((~passed).mean()) if len(y) else None,
    }


def fit_head(df: pd.DataFrame, target: str, names: list[str], seed: int, threads: int) -> tuple[Head, dict]:
    """A calibrated LightGBM head for ``target`` on the time split of ``df`` (rows with a
    known target). Returns the head and its test predictions' metrics."""
    data = df[df[target].notna()].reset_index(drop=True)
    y = data[target].to_numpy(dtype=float)
    if len(data) < MIN_LABELS or len(np.unique(y)) < 2:
        prior = float(y.mean()) if len(y) else 0.1
        return Head(None, prior), {"note": f"{len(data)} rows with a known {target}: constant prior {prior:.3f}"}
    tr, va, ca, te = time_split(len(data))
    X = data[names].to_numpy(dtype=float)
    if len(np.unique(y[va])) < 2:
        va = slice(va.start, ca.stop)
    booster = fit_lgbm(X[tr], y[tr], X[va], y[va], names, seed, threads)
    head = calibrate(Head(booster, float(y[tr].mean())), booster.predict(X[ca]), y[ca])
    return head, binary_metrics(y[te], head.predict(X[te])) | {"best_iteration": booster.num_trees()}


def fit_logistic(X_tr, y_tr, names):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [i for i, n in enumerate(names) if n != "category_code"]
    categorical = [i for i, n in enumerate(names) if n == "category_code"]
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value=-1), OneHotEncoder(handle_unknown="ignore")), categorical),
    ])
    return make_pipeline(pre, LogisticRegression(max_iter=2000, C=1.0)).fit(X_tr, y_tr)


# ----------------------------------------------------------------------------- run
def version_for(data: pd.DataFrame, pass_accepted: float | None = None) -> str:
    """``<newest label time>-<hash of the labelled photos and code>``: the same training data
    gives the same version whenever (and however often) the run happens."""
    h = hashlib.sha256(CODE_VERSION.encode())
    if pass_accepted is not None:  # another routing target is another model (another threshold)
        h.update(f"|pass_accepted={pass_accepted}".encode())
    h.update(pd.util.hash_pandas_object(data[["photo_id", "y_suitable", "y_sale"]], index=False).values.tobytes())
    return f"{data['decided_at'].max():%Y%m%dT%H%M}-{h.hexdigest()[:8]}"


def train(conn, as_of, seed: int = 7, threads: int = 2, with_champion: bool = True) -> TrainResult:
    """Train, calibrate and evaluate a new version as the data stood at ``as_of``; store its
    artifact and report; register it in ``licensing.model_versions`` (not promoted)."""
    import time

    from lightbox.objects import exists, join, put_bytes
    from ml.registry import load_champion, register

    t0 = time.monotonic()
    data = labelled_dataset(conn, as_of, workers=threads)
    log.info("dataset: %d labelled photos in %.1f s", len(data), time.monotonic() - t0)
    everything = data
    data = data[data["y_suitable"].notna()].reset_index(drop=True)  # accepted or rejected
    y_all = data["y_suitable"].to_numpy()
    if len(data) < MIN_LABELS or len(np.unique(y_all)) < 2:
        raise InsufficientData(f"{len(data)} photos accepted or rejected ({int(y_all.sum())} accepted): need {MIN_LABELS} of both kinds")
    from lightbox.config import settings

    target = settings().aiscan_pass_accepted
    version = version_for(everything, target)
    from ml.registry import models_base

    base = models_base(version)
    artifact_uri, report_uri = join(base, "model.json"), join(base, "report.html")
    with conn.cursor() as cur:
        cur.execute("select metrics from licensing.model_versions where version = %s", (version,))
        row = cur.fetchone()
    if row is not None and exists(artifact_uri):
        log.info("version %s already registered (same data, same code): nothing to train", version)
        return TrainResult(version, row[0], artifact_uri, report_uri, created=False)

    names_all, names_meta = list(F.ALL_FEATURES), list(F.METADATA_FEATURES)
    tr, va, ca, te = time_split(len(data))
    y = y_all.astype(float)
    if len(np.unique(y[te])) < 2:
        raise InsufficientData("the newest period has only one kind of decision: cannot evaluate")
    X_all = data[names_all].to_numpy(dtype=float)
    X_meta = data[names_meta].to_numpy(dtype=float)

    booster = fit_lgbm(X_all[tr], y[tr], X_all[va], y[va], names_all, seed, threads)
    held = held_out(va, ca)
    suitable = calibrate(Head(booster, float(y[tr].mean())), booster.predict(X_all[held]), y[held])
    sale, sale_metrics = fit_head(everything, "y_sale", names_all, seed, threads)
    p_calib = suitable.predict(X_all[ca])
    threshold = routing_threshold(p_calib[y[ca] == 1], target)
    model = Model(version, names_all, suitable, sale, threshold=threshold)

    preds = {"lightgbm": suitable.predict(X_all[te])}
    meta_booster = fit_lgbm(X_meta[tr], y[tr], X_meta[va], y[va], names_meta, seed, threads)
    meta_head = calibrate(Head(meta_booster, 0.5), meta_booster.predict(X_meta[held]), y[held])
    preds["lightgbm_no_pixels"] = meta_head.predict(X_meta[te])
    logistic = fit_logistic(X_meta[tr], y[tr], names_meta)
    preds["logistic_metadata"] = logistic.predict_proba(X_meta[te])[:, 1]

    champion_info = None
    if with_champion:
        from ml.registry import champion as current_champion

        current = current_champion(conn)
        if current is not None:
            try:
                champ = load_champion(conn)
                preds["champion"] = champ.suitable.predict(champ.matrix(data.iloc[te]))
                champion_info = {"version": current[0]}
            except ModelLoadError as exc:
                champion_info = {"version": current[0], "error": str(exc)}

    log.info("models fitted at %.1f s", time.monotonic() - t0)
    evaluation = {name: binary_metrics(y[te], p) for name, p in preds.items()}
    importance = dict(zip(names_all, map(float, booster.feature_importance("gain"))))
    metrics = {
        "as_of": pd.Timestamp(as_of).isoformat(),
        "code": CODE_VERSION,
        "rows": {"train": tr.stop - tr.start, "valid": va.stop - va.start, "calib": ca.stop - ca.start,
                 "test": te.stop - te.start},
        "test_period": {"from": data["uploaded_at"].iloc[te.start].isoformat(),
                        "to": data["uploaded_at"].iloc[te.stop - 1].isoformat()},
        "test_photo_ids_sha256": hashlib.sha256(",".join(data["photo_id"].iloc[te]).encode()).hexdigest(),
        "p_suitable": evaluation["lightgbm"] | {"best_iteration": booster.num_trees()},
        "p_sale": sale_metrics,
        "routing": {
            "target": f"pass at least {target:.0%} of the photos inspectors accept; remove as many rejects as possible",
            "pass_accepted": target, "threshold": threshold,
            "calibration_slice": routing_report(y[ca], p_calib, threshold),
            "test": routing_report(y[te], preds["lightgbm"], threshold),
        },
        "baselines": {k: v for k, v in evaluation.items() if k != "lightgbm"},
        "champion": champion_info,
        "pixel_lift_roc_auc": _diff(evaluation["lightgbm"], evaluation["lightgbm_no_pixels"]),
        "importance_gain": dict(sorted(importance.items(), key=lambda kv: -kv[1])),
        "images_unreadable": int(everything["pixel_error"].map(lambda e: isinstance(e, str)).sum()),
    }

    put_bytes(artifact_uri, model.to_bytes())
    put_bytes(join(base, "metrics.json"), json.dumps(metrics, indent=2, default=float).encode())
    for name, png in _plots(y[te], preds, importance).items():
        put_bytes(join(base, name), png)
    put_bytes(report_uri, _report_html(version, metrics).encode())
    log.info("artifacts and report written at %.1f s", time.monotonic() - t0)
    register(conn, version, pd.Timestamp(as_of).to_pydatetime(), metrics, artifact_uri, report_uri)
    if not conn.autocommit:
        conn.commit()
    log.info("trained %s: p_suitable %s", version, metrics["p_suitable"])
    return TrainResult(version, metrics, artifact_uri, report_uri, created=True)


def _diff(a: dict, b: dict):
    if a.get("roc_auc") is None or b.get("roc_auc") is None:
        return None
    return a["roc_auc"] - b["roc_auc"]


def promote_if_better(conn, version: str, by: str = "licensing_train_model") -> dict:
    """Promote ``version`` if it is at least as good as the champion (ROC-AUC of p_suitable
    on the same newest-period photos, measured in the training run). The artifact is loaded
    first: a file that does not load raises ModelLoadError and the champion stays."""
    from ml.registry import champion, load_model, promote

    with conn.cursor() as cur:
        cur.execute("select metrics, artifact_uri, is_champion from licensing.model_versions where version = %s", (version,))
        row = cur.fetchone()
    if row is None:
        raise KeyError(f"unknown model version {version!r}")
    metrics, artifact_uri, is_champ = row
    if is_champ:
        return {"version": version, "promoted": False, "reason": "already champion"}
    load_model(artifact_uri)  # fails loudly; nothing changes
    current = champion(conn)
    new_auc = metrics["p_suitable"].get("roc_auc")
    if current is None:
        decision, reason = True, "first model: no champion yet"
    else:
        evaluated = metrics.get("champion") or {}
        if evaluated.get("version") != current[0]:
            decision, reason = False, f"champion is now {current[0]}, evaluated against {evaluated.get('version')}: retrain"
        elif evaluated.get("error"):
            raise ModelLoadError(
                f"champion {current[0]} failed to load during evaluation ({evaluated['error']}); "
                f"not promoting automatically: check it, then `lightbox models promote {version}`"
            )
        else:
            champ_auc = metrics["baselines"]["champion"].get("roc_auc")
            decision = new_auc is not None and (champ_auc is None or new_auc >= champ_auc - 1e-12)
            reason = f"ROC-AUC {new_auc:.4f} vs champion {current[0]} {champ_auc:.4f} on the same photos"
    if decision:
        promote(conn, version, by=by, reason=reason)
    else:
        with conn.cursor() as cur:
            cur.execute("update licensing.model_versions set notes = %s where version = %s", (f"not promoted: {reason}", version))
        if not conn.autocommit:
            conn.commit()
    return {"version": version, "promoted": decision, "reason": reason}


# ----------------------------------------------------------------------------- report
def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def _plots(y, preds: dict, importance: dict) -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    out = {}
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, p in preds.items():
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC, p_suitable (newest period)")
    ax.legend(loc="lower right", fontsize=8)
    out["roc.png"] = _png(fig)

    fig, ax = plt.subplots(figsize=(5, 5))
    edges = np.linspace(0, 1, 11)
    for name, p in preds.items():
        idx = np.clip(np.digitize(p, edges[1:-1]), 0, 9)
        xs = [p[idx == b].mean() for b in range(10) if (idx == b).any()]
        ys = [y[idx == b].mean() for b in range(10) if (idx == b).any()]
        ax.plot(xs, ys, "o-", label=name, ms=3)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="predicted p_suitable", ylabel="observed share accepted", title="Calibration (newest period)")
    ax.legend(loc="upper left", fontsize=8)
    out["calibration.png"] = _png(fig)

    top = sorted(importance.items(), key=lambda kv: -kv[1])[:20][::-1]
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.barh([k for k, _ in top], [v for _, v in top])
    ax.set(xlabel="total gain", title="Feature importance, p_suitable")
    out["importance.png"] = _png(fig)
    return out


def _fmt(v):
    return "—" if v is None else (f"{v:.4f}" if isinstance(v, float) else str(v))


def _report_html(version: str, metrics: dict) -> str:
    rows = {"lightgbm (this version)": metrics["p_suitable"], **metrics["baselines"]}
    cols = ("n", "positives", "roc_auc", "pr_auc", "brier", "log_loss", "ece")
    table = "".join(
        f"<tr><th>{name}</th>" + "".join(f"<td>{_fmt(m.get(c))}</td>" for c in cols) + "</tr>"
        for name, m in rows.items()
    )
    sale = metrics["p_sale"]
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>AI scan model {version}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}td,th{{padding:.2em .6em;text-align:right}}</style></head>
<body><h1>AI scan model {version}</h1>
<p>Trained on data as of {metrics['as_of']}; evaluated on the newest period
({metrics['test_period']['from']} to {metrics['test_period']['to']}, {metrics['rows']['test']} photos) that no model saw.
Rows: {metrics['rows']}. Unreadable images among the labelled photos: {metrics['images_unreadable']}.</p>
<h2>p_suitable on the newest period</h2>
<table><tr><th></th>{''.join(f'<th>{c}</th>' for c in cols)}</tr>{table}</table>
<h2>Routing</h2><p>Target: {metrics['routing']['target']}. Threshold {metrics['routing']['threshold']:.4f}
(chosen on the calibration slice). On the newest period it passes {_fmt(metrics['routing']['test']['accepted_passed'])}
of the accepted photos and removes {_fmt(metrics['routing']['test']['rejected_removed'])} of the rejected ones.</p>
<p>Pixel features add {_fmt(metrics['pixel_lift_roc_auc'])} ROC-AUC over the same LightGBM without them.</p>
<h2>p_sale (sold within 90 days of acceptance)</h2><pre>{json.dumps(sale, indent=1, default=float)}</pre>
<img src="roc.png" alt="ROC curves"> <img src="calibration.png" alt="calibration plot">
<h2>Feature importance</h2><img src="importance.png" alt="feature importance">
</body></html>"""

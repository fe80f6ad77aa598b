"""The model registry: ``licensing.model_versions`` rows plus artifacts in the object store
under ``<object_store>/models/<version>/`` (``model.json``, ``metrics.json``, ``report.html``
and its PNG plots).

A model artifact is JSON (LightGBM's own text format inside, isotonic calibration as its
breakpoints): no pickle, so loading a file never runs code. :class:`Model` scores features;
:func:`load_model` raises :class:`ModelLoadError` for anything unreadable, and promotion
always loads the artifact first, so a broken file can never become champion.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger(__name__)

ARTIFACT_FORMAT = "lightbox-aiscan/1"


class ModelLoadError(RuntimeError):
    """A model artifact could not be loaded; the champion does not change."""


def models_base(version: str) -> str:
    from lightbox.config import settings
    from lightbox.objects import join

    return join(settings().object_store, "models", version)


@dataclass
class Head:
    """One target's booster (or a constant prior) and its calibration map."""

    booster: object | None
    prior: float
    calib_x: list[float] = field(default_factory=list)  # isotonic breakpoints
    calib_y: list[float] = field(default_factory=list)
    platt: list[float] | None = None  # [a, b]: p = sigmoid(a * logit(raw) + b)

    def raw(self, X: np.ndarray) -> np.ndarray:
        if self.booster is None:
            return np.full(len(X), self.prior, dtype=float)
        return self.booster.predict(X)

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        if self.platt:
            z = np.log(np.clip(raw, 1e-6, 1 - 1e-6) / (1 - np.clip(raw, 1e-6, 1 - 1e-6)))
            return 1.0 / (1.0 + np.exp(-(self.platt[0] * z + self.platt[1])))
        if len(self.calib_x) >= 2:
            return np.clip(np.interp(raw, self.calib_x, self.calib_y), 0.0, 1.0)
        return np.clip(raw, 0.0, 1.0)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.calibrate(self.raw(X))

    def contributions(self, X: np.ndarray) -> np.ndarray | None:
        if self.booster is None:
            return None
        return self.booster.predict(X, pred_contrib=True)

    def to_json(self) -> dict:
        return {
            "model": self.booster.model_to_string() if self.booster is not None else None,
            "prior": self.prior,
            "calibration": {"x": list(map(float, self.calib_x)), "y": list(map(float, self.calib_y)),
                            "platt": self.platt},
        }

    @classmethod
    def from_json(cls, data: dict) -> "Head":
        import lightgbm as lgb

        booster = lgb.Booster(model_str=data["model"]) if data.get("model") else None
        cal = data.get("calibration") or {}
        return cls(booster, float(data.get("prior", 0.5)), list(cal.get("x", [])), list(cal.get("y", [])),
                   cal.get("platt"))


@dataclass
class Model:
    version: str
    feature_names: list[str]
    suitable: Head
    sale: Head
    threshold: float = 0.5

    def matrix(self, features) -> np.ndarray:
        missing = [f for f in self.feature_names if f not in features.columns]
        if missing:
            raise ModelLoadError(f"model {self.version} needs features this code does not compute: {missing}")
        return features[self.feature_names].to_numpy(dtype=float)

    def predict(self, features) -> tuple[np.ndarray, np.ndarray]:
        X = self.matrix(features)
        return self.suitable.predict(X), self.sale.predict(X)

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "format": ARTIFACT_FORMAT,
                "version": self.version,
                "feature_names": self.feature_names,
                "threshold": self.threshold,
                "suitable": self.suitable.to_json(),
                "sale": self.sale.to_json(),
            }
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Model":
        doc = json.loads(data)
        if doc.get("format") != ARTIFACT_FORMAT:
            raise ValueError(f"unknown artifact format {doc.get('format')!r}")
        model = cls(doc["version"], list(doc["feature_names"]), Head.from_json(doc["suitable"]),
                    Head.from_json(doc["sale"]), float(doc.get("threshold", 0.5)))
        # a smoke prediction: a file that parses but cannot score is as broken as one that does not parse
        probe = np.full((1, len(model.feature_names)), np.nan)
        model.suitable.predict(probe)
        model.sale.predict(probe)
        return model


def load_model(artifact_uri: str) -> Model:
    from lightbox.objects import get_bytes

    try:
        return Model.from_bytes(get_bytes(artifact_uri))
    except Exception as exc:  # noqa: BLE001 - every failure is the same for the caller
        raise ModelLoadError(f"model artifact {artifact_uri} failed to load: {exc}") from exc


def champion(conn) -> tuple[str, str] | None:
    """(version, artifact_uri) of the champion, or None."""
    with conn.cursor() as cur:
        cur.execute("select version, artifact_uri from licensing.model_versions where is_champion")
        row = cur.fetchone()
    return (row[0], row[1]) if row else None


def load_champion(conn) -> Model | None:
    current = champion(conn)
    if current is None:
        return None
    return load_model(current[1])


def register(conn, version: str, trained_at, metrics: dict, artifact_uri: str, report_uri: str | None, notes: str | None = None) -> None:
    with conn.cursor() as cur:
        cur.execute(
            """insert into licensing.model_versions (version, trained_at, metrics, artifact_uri, report_uri, notes)
               values (%s, %s, %s, %s, %s, %s)
               on conflict (version) do update set metrics = excluded.metrics,
                   artifact_uri = excluded.artifact_uri, report_uri = excluded.report_uri, notes = excluded.notes""",
            (version, trained_at, json.dumps(metrics, default=float), artifact_uri, report_uri, notes),
        )


def promote(conn, version: str, by: str, reason: str, at=None) -> str | None:
    """Make ``version`` the champion after loading its artifact. Returns the previous champion.
    Raises ModelLoadError (nothing changes) if the artifact does not load, KeyError if unknown."""
    with conn.cursor() as cur:
        cur.execute("select artifact_uri from licensing.model_versions where version = %s", (version,))
        row = cur.fetchone()
    if row is None:
        raise KeyError(f"unknown model version {version!r}")
    load_model(row[0])  # raises: the champion stays as it is
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext('licensing.champion'))")
        cur.execute("select version from licensing.model_versions where is_champion for update")
        prev = cur.fetchone()
        previous = prev[0] if prev else None
        if previous == version:
            return previous
        cur.execute("update licensing.model_versions set is_champion = false where is_champion")
        cur.execute(
            "update licensing.model_versions set is_champion = true, promoted_at = coalesce(%s, now()) where version = %s",
            (at, version),
        )
        cur.execute(
            """insert into licensing.model_promotions (version, previous_version, promoted_at, promoted_by, reason)
               values (%s, %s, coalesce(%s, now()), %s, %s)""",
            (version, previous, at, by, reason),
        )
    if not conn.autocommit:
        conn.commit()
    log.info("model %s is champion (was %s): %s", version, previous, reason)
    return previous


def rollback(conn, by: str, reason: str = "rollback") -> tuple[str, str]:
    """Give the champion role back to the version it replaced. Returns (from, to)."""
    current = champion(conn)
    if current is None:
        raise LookupError("there is no champion to roll back")
    with conn.cursor() as cur:
        cur.execute(
            """select previous_version from licensing.model_promotions
               where version = %s and previous_version is not null
               order by promoted_at desc, promotion_id desc limit 1""",
            (current[0],),
        )
        row = cur.fetchone()
    if row is None:
        raise LookupError(f"champion {current[0]} did not replace another version; nothing to roll back to")
    promote(conn, row[0], by=by, reason=f"{reason} (from {current[0]})")
    return current[0], row[0]


def list_versions(conn) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(
            """select version, trained_at, is_champion, promoted_at, metrics, artifact_uri, report_uri, notes
               from licensing.model_versions order by trained_at desc, version desc"""
        )
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]

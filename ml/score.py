"""The AI scan: score the photos waiting for it with the champion and route each one.

Eligible (at scan time ``scan_at``, the DAG run's data interval end): not deleted, not removed
from licensing, owner's account not deleted, uploaded by ``scan_at``, never scored before,
and either submitted for licensing by hand or uploaded while the owner was opted in to auto
licensing (``raw.users_history`` at ``uploaded_at``: photos uploaded before the opt-in or
after an opt-out never are; a later opt-out does not withdraw earlier uploads).
A photo an inspector already decided is scored like any other but never (re-)enters the
queue: the decision stands.

Routing, per photo, into ``licensing.scores``:
- ``not_suitable``: calibrated ``p_suitable`` below the model's threshold;
- ``changes_required``: passes, but people without a model release or property without a
  property release;
- ``under_review``: passes; enters ``licensing.review_queue`` with priority ``p_sale``;
- ``removed``: the photographer removed it (or deleted it) while it was being scanned. The
  removal flag is re-read, under a row lock, in the very transaction that writes the queue,
  so such a photo never reaches the queue.

Idempotent: scores are keyed (photo_id, model_version) and written once; queue rows are
keyed by photo_id and only a *pending* row's priority may change (a new champion
re-prioritising pending items, :func:`reprioritize_pending`); a claimed or decided item is
never touched. Photos that cannot be scored (no owner on record, image missing or
unreadable) are listed in ``licensing.scan_failures`` with the reason and retried next run.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml import features as F
from ml.pixels import defects
from ml.registry import Model, ModelLoadError, load_champion

log = logging.getLogger(__name__)

BATCH = 500
TOP_REASONS = 3

ELIGIBLE_SQL = """
select p.photo_id
from raw.photos as p
left join lateral (
    select uh.auto_licensing from raw.users_history as uh
    where uh.user_id = p.owner_id and uh.updated_at <= p.uploaded_at
    order by uh.updated_at desc, uh._file_id desc, uh._line desc limit 1
) as at_upload on true
left join lateral (
    select uh.deleted_at from raw.users_history as uh
    where uh.user_id = p.owner_id and uh.updated_at <= %(scan_at)s
    order by uh.updated_at desc, uh._file_id desc, uh._line desc limit 1
) as at_scan on true
where p.deleted_at is null
  and not coalesce(p.removed_from_licensing, false)
  and p.uploaded_at <= %(scan_at)s
  and at_scan.deleted_at is null
  and not exists (select 1 from licensing.scores as s where s.photo_id = p.photo_id)
  and (coalesce(p.submitted_for_licensing, false) or coalesce(at_upload.auto_licensing, false))
order by
    -- fresh submissions first: photos an inspector already decided are a backlog, not urgent
    exists (select 1 from raw.inspections as i where i.photo_id = p.photo_id)
        or exists (select 1 from licensing.decisions as d where d.photo_id = p.photo_id),
    p.uploaded_at, p.photo_id
"""


@dataclass
class ScanSummary:
    model_version: str | None = None
    eligible: int = 0
    decisions: dict = field(default_factory=dict)
    failures: int = 0
    queued: int = 0
    reprioritized: int = 0

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def eligible_photo_ids(conn, scan_at) -> list[str]:
    with conn.cursor() as cur:
        cur.execute(ELIGIBLE_SQL, {"scan_at": scan_at})
        return [r[0] for r in cur.fetchall()]


def scan_in_progress(conn, photo_id: str, scan_at=None) -> bool:
    """True while the photo waits for (or is in) its AI scan: eligible and not yet scored."""
    with conn.cursor() as cur:
        cur.execute(
            f"select 1 from ({ELIGIBLE_SQL}) as e where e.photo_id = %(photo_id)s",
            {"scan_at": scan_at or pd.Timestamp.now(tz="UTC").to_pydatetime(), "photo_id": photo_id},
        )
        return cur.fetchone() is not None


def explain(contrib_row: np.ndarray, names: list[str], decision: str, k: int = TOP_REASONS,
            measured: dict | None = None) -> list[dict]:
    """Top-k feature contributions (log-odds, LightGBM pred_contrib) in plain words, in the
    direction of the decision. A pixel feature that lowers the score is named by the defect
    it measures in ``measured`` (the photo's features), with the value, when it shows one."""
    from ml.pixels import describe

    values = contrib_row[:-1]  # the last column is the bias
    order = np.argsort(values) if decision == "not_suitable" else np.argsort(-values)
    out, seen = [], set()
    for i in order:
        v = float(values[i])
        if (decision == "not_suitable" and v >= 0) or (decision != "not_suitable" and v <= 0):
            break
        positive, negative = F.FEATURE_WORDS.get(names[i], (names[i] + " helps", names[i] + " hurts"))
        text = positive if v > 0 else ((measured and describe(names[i], measured)) or negative)
        if text in seen:
            continue
        seen.add(text)
        out.append({"kind": "model", "feature": names[i], "weight": round(v, 4), "text": text})
        if len(out) == k:
            break
    return out


def route(p_suitable: float, threshold: float, row: dict) -> tuple[str, list[dict]]:
    """The decision for one photo and the rule reasons that go with it. The threshold is the
    model's: chosen on its calibration slice for the routing target in configuration."""
    if p_suitable < threshold:
        return "not_suitable", [{"kind": "rule", "text": f"suitability {p_suitable:.0%} is below the {threshold:.0%} threshold"}]
    rules = []
    if F.flag(row.get("has_people")) and not F.flag(row.get("model_release")):
        rules.append({"kind": "rule", "text": "people are recognisable but there is no model release"})
    if F.flag(row.get("has_property")) and not F.flag(row.get("property_release")):
        rules.append({"kind": "rule", "text": "private property is shown but there is no property release"})
    if rules:
        return "changes_required", rules
    return "under_review", [{"kind": "rule", "text": f"suitability {p_suitable:.0%}: sent to the inspectors"}]


def _record_failures(conn, failures: dict[str, str], scan_at) -> None:
    if not failures:
        return
    from psycopg2.extras import execute_values

    with conn.cursor() as cur:
        execute_values(
            cur,
            """insert into licensing.scan_failures (photo_id, reason, first_failed_at, last_scan_at)
               values %s on conflict (photo_id) do update set reason = excluded.reason,
               last_scan_at = greatest(licensing.scan_failures.last_scan_at, excluded.last_scan_at),
               resolved_at = null""",
            [(pid, reason, scan_at, scan_at) for pid, reason in failures.items()],
        )
    conn.commit()


def score_batch(conn, model: Model, photos: pd.DataFrame, feats: pd.DataFrame, scan_at, before_write=None) -> tuple[dict, dict]:
    """Score and route one batch; returns ({photo_id: decision}, {photo_id: failure reason},
    [photo ids queued])."""
    failures: dict[str, str] = {}
    rows = photos.set_index("photo_id").to_dict("index")
    ok = []
    for i, pid in enumerate(feats["photo_id"]):
        row = rows[pid]
        if not F.flag(row.get("owner_known")):
            failures[pid] = f"owner {row.get('owner_id')!r} is not a known user: cannot be licensed"
        elif isinstance(feats["pixel_error"].iloc[i], str):
            failures[pid] = feats["pixel_error"].iloc[i]
        else:
            ok.append(i)
    good = feats.iloc[ok].reset_index(drop=True)
    results = []
    if len(good):
        X = model.matrix(good)
        p_suit = model.suitable.predict(X)
        p_sale = model.sale.predict(X)
        contrib = model.suitable.contributions(X)
        for j, pid in enumerate(good["photo_id"]):
            decision, rule_reasons = route(float(p_suit[j]), model.threshold, rows[pid])
            measured = good.iloc[j].to_dict()
            # the defects measured in the pixels, in words an inspector uses, whatever the decision
            found = [{"kind": "defect", "feature": f, "text": t} for f, t in defects(measured)]
            reasons = rule_reasons + found
            if contrib is not None:
                said = {r["text"] for r in found}
                reasons += [r for r in explain(contrib[j], model.feature_names, decision, measured=measured)
                            if r["text"] not in said]
            reasons += [{"kind": "data", "text": note} for note in good["quality_notes"].iloc[j]]
            results.append([pid, float(p_suit[j]), float(p_sale[j]), decision, reasons])

    if before_write is not None:
        before_write([r[0] for r in results])  # tests: the photographer acts during the scan

    decided: dict[str, str] = {}
    queue: list = []
    if results:
        from psycopg2.extras import execute_values

        with conn.cursor() as cur:
            # Re-read the removal flag under a row lock in the transaction that writes the
            # queue: a removal committed before this point wins; one after waits for us.
            cur.execute(
                """select photo_id, coalesce(removed_from_licensing, false) or deleted_at is not null
                   from raw.photos where photo_id = any(%s) for share""",
                ([r[0] for r in results],),
            )
            removed = {pid for pid, gone in cur.fetchall() if gone}
            cur.execute(
                """select photo_id, decision from raw.inspections where photo_id = any(%(ids)s)
                   union all select photo_id, decision from licensing.decisions where photo_id = any(%(ids)s)""",
                {"ids": [r[0] for r in results]},
            )
            already = dict(cur.fetchall())
            for r in results:
                if r[3] == "under_review" and r[0] in already:
                    r[4] = r[4] + [{"kind": "rule", "text": f"already decided by an inspector ({already[r[0]]}): not queued again"}]
                if r[0] in removed:
                    r[3] = "removed"
                    r[4] = [{"kind": "rule", "text": "removed from licensing by the photographer during the scan"}]
            execute_values(
                cur,
                """insert into licensing.scores (photo_id, model_version, p_suitable, p_sale, decision, reasons, scored_at)
                   values %s on conflict (photo_id, model_version) do nothing""",
                [(r[0], model.version, round(r[1], 6), round(r[2], 6), r[3], json.dumps(r[4]), scan_at) for r in results],
            )
            queue = [(r[0], round(r[2], 6), model.version, scan_at) for r in results
                     if r[3] == "under_review" and r[0] not in already]
            if queue:
                execute_values(
                    cur,
                    """insert into licensing.review_queue (photo_id, priority, model_version, enqueued_at)
                       values %s on conflict (photo_id) do update
                       set priority = excluded.priority, model_version = excluded.model_version
                       where licensing.review_queue.status = 'pending'""",
                    queue,
                )
            cur.execute(
                "update licensing.scan_failures set resolved_at = %s where photo_id = any(%s) and resolved_at is null",
                (scan_at, [r[0] for r in results]),
            )
        conn.commit()
        decided = {r[0]: r[3] for r in results}
    return decided, failures, [q[0] for q in queue]


def score_submissions(conn, scan_at, model: Model | None = None, workers: int = 2, before_write=None,
                      batch: int = BATCH, limit: int | None = None) -> ScanSummary:
    """The AI scan of every eligible photo at ``scan_at`` (the first ``limit`` of them when
    given, photos no inspector has decided first; the rest wait for the next run). ``conn`` must not be autocommit (each batch
    commits on its own). Raises ModelLoadError if the champion does not load."""
    summary = ScanSummary()
    model = model or load_champion(conn)
    conn.commit()
    if model is None:
        log.warning("no champion model yet: nothing scored (train one with licensing_train_model)")
        return summary
    summary.model_version = model.version
    ids = eligible_photo_ids(conn, scan_at)
    summary.eligible = len(ids)
    if limit is not None:
        ids = ids[:limit]
    if not ids:
        return summary
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        photos, feats = F.features_for(conn, photo_ids=chunk, as_of=scan_at, workers=workers)
        conn.commit()
        decided, failures, queued = score_batch(conn, model, photos, feats, scan_at, before_write)
        _record_failures(conn, failures, scan_at)
        summary.failures += len(failures)
        for d in decided.values():
            summary.decisions[d] = summary.decisions.get(d, 0) + 1
        summary.queued += len(queued)
    log.info("AI scan at %s: %s", scan_at, summary.as_dict())
    return summary


def reprioritize_pending(conn, scan_at, model: Model | None = None, workers: int = 2) -> int:
    """After a new champion: recompute ``p_sale`` of the *pending* queue items the champion
    did not score and update their priority (and model_version) only; claimed and decided
    items are never touched, and routing decisions stand."""
    model = model or load_champion(conn)
    if model is None:
        return 0
    with conn.cursor() as cur:
        cur.execute(
            "select photo_id from licensing.review_queue where status = 'pending' and model_version is distinct from %s",
            (model.version,),
        )
        ids = [r[0] for r in cur.fetchall()]
    conn.commit()
    if not ids:
        return 0
    photos, feats = F.features_for(conn, photo_ids=ids, as_of=scan_at, workers=workers)
    p_sale = model.sale.predict(model.matrix(feats))
    with conn.cursor() as cur:
        from psycopg2.extras import execute_values

        execute_values(
            cur,
            """update licensing.review_queue as q set priority = v.priority::numeric, model_version = v.version
               from (values %s) as v (photo_id, priority, version)
               where q.photo_id = v.photo_id and q.status = 'pending'""",
            [(pid, round(float(p), 6), model.version) for pid, p in zip(feats["photo_id"], p_sale)],
        )
        n = cur.rowcount
    conn.commit()
    return n


__all__ = ["ScanSummary", "score_submissions", "reprioritize_pending", "eligible_photo_ids", "scan_in_progress",
           "route", "explain", "ModelLoadError"]

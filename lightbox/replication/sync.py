"""One region's sync: make the region's store hold exactly the photos whose owners consented
to the region, verified byte for byte, and record every change.

Each run compares three things: the desired contents (``consent``), the inventory
(``replication.inventory``) and what the store really holds (its listing), and applies the
difference: removals first (privacy before availability), then copies.

Order of operations, chosen so that a kill -9 at any point leaves a state the next run
converges from, and so that the inventory never claims an object the store does not hold:

- copy: audit ``copy_started`` (committed) → write the object → read it back and verify
  its SHA-256 → one transaction: inventory row + audit ``copy``. A crash after the write
  leaves an object the inventory does not know: the next run adopts it (after verifying its
  hash) if it is still wanted, or deletes it; either is audited as ``repair``.
- delete: one transaction: inventory row removed + audit ``delete`` → delete the object.
  A crash after the commit leaves an unknown object that the next run deletes (``repair``).
- object keys carry the content hash, so a new version of a photo goes to a new key and the
  old key is deleted only after the inventory points at the new one.
- every store write or delete is preceded by a committed audit row naming its key, so the
  audit log explains every object that entered or left, even across crashes.

A session-level advisory lock serialises syncs of the same region. Any store failure raises
(an unreachable region fails its task loudly); per-photo problems with the *source* (missing
image, SHA-256 different from ``raw.photos.sha256``) are recorded in ``replication.runs``
and skip that photo without failing the region.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from lightbox.replication import consent as c
from lightbox.replication.store import RegionStore, object_key, photo_id_of

log = logging.getLogger(__name__)
MAX_SOURCE_BYTES = 100 * 1024 * 1024  # as lightbox.landing.media.MAX_BYTES


class CopyVerificationError(RuntimeError):
    """The bytes read back from the region differ from the bytes written."""


@dataclass
class SyncResult:
    region: str
    run_id: str
    desired: int = 0
    held: int = 0
    copied: int = 0
    deleted: int = 0
    repaired: int = 0
    errors: list = field(default_factory=list)
    seconds: float = 0.0
    phases: dict = field(default_factory=dict)  # seconds spent listing, planning, removing, copying

    def summary(self) -> dict:
        out = asdict(self)
        out["errors"] = len(self.errors)
        return out


@dataclass
class _Inv:
    photo_id: str
    object_key: str
    sha256: str
    size_bytes: int
    source_path: str | None
    held_since: datetime
    consent_event_id: str | None
    owner_id: str | None
    replicated_at: datetime


@dataclass
class _Copy:
    photo: c.Photo
    decision: c.Decision
    reason: str
    inv: _Inv | None
    orphans: list  # keys of this photo in the store that the inventory does not point at


def _copy_text(value) -> str:
    """A value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sync_region(
    region,
    *,
    run_id: str,
    at: datetime,
    conn=None,
    store=None,
    landing: Path | None = None,
    batch_size: int = 500,
    copy_batch: int = 256,
    workers: int = 4,
    deep_verify: bool = False,
) -> SyncResult:
    """Sync one region (a ``config.Region`` or its code). ``run_id`` and ``at`` come from the
    caller (the DAG run): they stamp every audit and inventory row of this run."""
    from lightbox import db
    from lightbox.config import settings

    if isinstance(region, str):
        region = settings().region(region)
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    at = datetime.fromtimestamp(at.timestamp(), tz=timezone.utc)  # plain datetime (not pendulum)
    own_conn = conn is None
    if own_conn:
        conn = db.connect()
    was_autocommit = conn.autocommit
    if was_autocommit:
        conn.autocommit = False
    store = store or RegionStore(region.uri)
    started = time.monotonic()
    result = SyncResult(region.code, run_id)
    try:
        with conn.cursor() as cur:
            cur.execute("select pg_advisory_lock(hashtext('lightbox.replication.' || %s))", (region.code,))
            # We hold the region's lock: any other run still 'running' died (kill -9, lost
            # worker) without saying so. It is failed now, with a word why.
            cur.execute(
                """update replication.runs set status = 'failed', finished_at = clock_timestamp(),
                          errors = errors || jsonb_build_array(jsonb_build_object(
                              'error', 'the run died; marked failed by run ' || %s))
                   where region = %s and status = 'running' and run_id <> %s""",
                (run_id, region.code, run_id),
            )
            cur.execute(
                """insert into replication.runs (run_id, region, at) values (%s, %s, %s)
                   on conflict (run_id, region) do update
                   set started_at = clock_timestamp(), finished_at = null, status = 'running'""",
                (run_id, region.code, at),
            )
        conn.commit()
        try:
            _Sync(conn, store, region, run_id, at, landing, batch_size, copy_batch, workers, deep_verify, result).run()
        except BaseException:
            try:  # best effort: a killed process never gets here, and the next run does not need it
                conn.rollback()
                with conn.cursor() as cur:
                    cur.execute(
                        "update replication.runs set status = 'failed', finished_at = clock_timestamp() "
                        "where run_id = %s and region = %s",
                        (run_id, region.code),
                    )
                conn.commit()
            except Exception:  # noqa: BLE001 - the original error is the one to report
                log.exception("region %s: could not mark run %s failed", region.code, run_id)
            raise
        result.seconds = round(time.monotonic() - started, 3)
        with conn.cursor() as cur:
            cur.execute(
                """update replication.runs set status = 'success', finished_at = clock_timestamp(),
                   desired = %s, held = %s, copied = %s, deleted = %s, repaired = %s, errors = %s
                   where run_id = %s and region = %s""",
                (result.desired, result.held, result.copied, result.deleted, result.repaired,
                 json.dumps(result.errors), run_id, region.code),
            )
        conn.commit()
        return result
    finally:
        try:
            with conn.cursor() as cur:
                cur.execute("select pg_advisory_unlock(hashtext('lightbox.replication.' || %s))", (region.code,))
            conn.commit()
        except Exception:  # noqa: BLE001 - the connection may be gone; the lock goes with it
            pass
        if own_conn:
            conn.close()
        elif was_autocommit and not conn.closed:
            conn.rollback()
            conn.autocommit = True


class _Sync:
    def __init__(self, conn, store, region, run_id, at, landing, batch_size, copy_batch, workers, deep_verify, result):
        self.conn, self.store, self.region = conn, store, region
        self.run_id, self.at, self.landing = run_id, at, landing
        self.copy_batch = max(1, copy_batch)  # photos held in memory at once
        self.batch_size, self.workers, self.deep_verify = batch_size, max(1, workers), deep_verify
        self.result = result

    # ---- loading -------------------------------------------------------------------
    def _load(self):
        code = self.region.code
        with self.conn.cursor() as cur:
            cur.execute(
                """select event_id, user_id, region, photo_id, action, at from raw.region_consents
                   where lower(trim(region)) = %s and at <= %s""",  # a future event waits for its time
                (code, self.at),
            )
            index = c.ConsentIndex(c.group_by_region(cur.fetchall()).get(code, []), self.region.enforceable)
            # exclusive by the one rule (licensing.photo_exclusivity)
            cur.execute(c.PHOTOS_SQL)
            photos = {row[0]: c.Photo(*row) for row in cur.fetchall()}
            cur.execute(
                """select photo_id, object_key, sha256, size_bytes, source_path, held_since, consent_event_id, owner_id,
                          replicated_at
                   from replication.inventory where region = %s""",
                (code,),
            )
            inventory = {row[0]: _Inv(*row) for row in cur.fetchall()}
        self.conn.commit()
        return index, photos, inventory

    # ---- the run ---------------------------------------------------------------------
    def _phase(self, name: str, since: float) -> float:
        now = time.monotonic()
        self.result.phases[name] = round(now - since, 3)
        return now

    def run(self) -> None:
        mark = time.monotonic()
        listing = self.store.list()  # first: an unreachable region fails before any change
        mark = self._phase("list", mark)
        index, photos, inventory = self._load()
        keys_by_photo: dict[str, list[str]] = defaultdict(list)
        for key in listing:
            pid = photo_id_of(key)
            if pid is None:
                log.warning("region %s: ignoring unknown object %s", self.region.code, key)
                continue
            keys_by_photo[pid].append(key)

        removals = []  # (photo_id, owner_id, reason, inv, keys)
        copies: list[_Copy] = []
        stale = []  # (photo_id, owner_id, keys) of kept photos: unknown extra keys
        consent_updates = []
        desired = 0
        for pid in sorted(set(photos) | set(inventory) | set(keys_by_photo)):
            photo = photos.get(pid)
            inv = inventory.get(pid)
            keys = keys_by_photo.get(pid, [])
            if photo is None:
                decision = c.Decision(False, c.PHOTO_UNKNOWN, None)
            else:
                decision = index.decide(photo)
            if not decision.wanted:
                if inv is not None or keys:
                    owner = photo.owner_id if photo else (inv.owner_id if inv else None)
                    removals.append((pid, owner, decision.reason, inv, keys))
                continue
            desired += 1
            current = inv is not None and self._is_current(inv, photo, listing)
            if current:
                extra = [k for k in keys if k != inv.object_key]
                if extra:
                    stale.append((pid, photo.owner_id, extra))
                if decision.event and inv.consent_event_id != decision.event.event_id:
                    consent_updates.append((decision.event.event_id, self.region.code, pid))
                continue
            if inv is None:
                reason = c.CONSENT_GRANTED
            elif inv.object_key not in listing or listing[inv.object_key] != inv.size_bytes:
                reason = c.DRIFT_REPAIRED
            else:
                reason = c.CONTENT_CHANGED
            copies.append(_Copy(photo, decision, reason, inv, [k for k in keys if inv is None or k != inv.object_key]))
        self.result.desired = desired
        mark = self._phase("plan", mark)

        for i in range(0, len(removals), self.batch_size):
            self._remove(removals[i : i + self.batch_size], listing)
        if stale:
            for i in range(0, len(stale), self.batch_size):
                self._remove_stale(stale[i : i + self.batch_size])
        if consent_updates:
            with self.conn.cursor() as cur:
                cur.executemany(
                    "update replication.inventory set consent_event_id = %s where region = %s and photo_id = %s",
                    consent_updates,
                )
            self.conn.commit()
        mark = self._phase("remove", mark)
        copies.sort(key=lambda job: job.photo.photo_id)
        for i in range(0, len(copies), self.copy_batch):
            self._copy(copies[i : i + self.copy_batch], listing)
        self._phase("copy", mark)
        with self.conn.cursor() as cur:
            cur.execute("select count(*) from replication.inventory where region = %s", (self.region.code,))
            self.result.held = cur.fetchone()[0]
        self.conn.commit()

    def _is_current(self, inv: _Inv, photo: c.Photo, listing: dict) -> bool:
        if inv.object_key not in listing or listing[inv.object_key] != inv.size_bytes:
            return False
        if photo.sha256:
            if inv.sha256 != photo.sha256.lower():
                return False
        elif inv.source_path != photo.image_path:
            return False  # no hash to compare with: a new image path means new content
        if self.deep_verify and _sha(self.store.get(inv.object_key)) != inv.sha256:
            listing[inv.object_key] = -1  # corrupt: treat as missing, recopy (drift)
            return False
        return True

    # ---- audit -----------------------------------------------------------------------
    _AUDIT_COLUMNS = ("at", "run_id", "region", "photo_id", "owner_id", "action", "reason", "direction",
                      "object_key", "sha256", "consent_event_id", "detail")

    def _audit(self, cur, rows) -> None:
        """rows: (photo_id, owner_id, action, reason, direction, object_key, sha256, consent_event_id, detail).
        Written with COPY: a first sync writes two audit rows per object."""
        if not rows:
            return
        buf = io.StringIO()
        head = f"{_copy_text(self.at.isoformat())}\t{_copy_text(self.run_id)}\t{_copy_text(self.region.code)}\t"
        for row in rows:
            buf.write(head + "\t".join(_copy_text(v) for v in row) + "\n")
        buf.seek(0)
        cur.copy_expert(f"copy replication.audit_log ({', '.join(self._AUDIT_COLUMNS)}) from stdin", buf)

    # ---- removals --------------------------------------------------------------------
    def _remove(self, batch, listing) -> None:
        audit, to_delete, rows_out = [], [], []
        for pid, owner, reason, inv, keys in batch:
            if inv is not None:
                rows_out.append(pid)
                if inv.object_key in listing:
                    audit.append((pid, owner, "delete", reason, "out", inv.object_key, inv.sha256,
                                  inv.consent_event_id, None))
                    to_delete.append(inv.object_key)
                    self.result.deleted += 1
                else:
                    audit.append((pid, owner, "repair", c.DRIFT_REPAIRED, "out", inv.object_key, inv.sha256,
                                  inv.consent_event_id, f"inventory row without object removed ({reason})"))
                    self.result.repaired += 1
            for key in keys:
                if inv is not None and key == inv.object_key:
                    continue
                audit.append((pid, owner, "repair", c.DRIFT_REPAIRED, "out", key, None, None,
                              f"object unknown to the inventory deleted ({reason})"))
                to_delete.append(key)
                self.result.repaired += 1
        with self.conn.cursor() as cur:
            if rows_out:
                cur.execute(
                    "delete from replication.inventory where region = %s and photo_id = any(%s)",
                    (self.region.code, rows_out),
                )
            self._audit(cur, audit)
        self.conn.commit()  # the inventory stops claiming before the objects go
        for key in to_delete:
            self.store.delete(key)

    def _remove_stale(self, batch) -> None:
        audit, to_delete = [], []
        for pid, owner, keys in batch:
            for key in keys:
                audit.append((pid, owner, "repair", c.DRIFT_REPAIRED, "in", key, None, None,
                              "stale object unknown to the inventory deleted; the current one stays"))
                to_delete.append(key)
                self.result.repaired += 1
        with self.conn.cursor() as cur:
            self._audit(cur, audit)
        self.conn.commit()
        for key in to_delete:
            self.store.delete(key)

    # ---- copies ----------------------------------------------------------------------
    def _read_source(self, job: _Copy):
        """(job, bytes, None) or (job, None, reason): only bytes that are an image and, when
        raw.photos gives one, of the photo's sha256 (``lightbox.landing.media``)."""
        from lightbox.landing.media import MediaError, read_photo_bytes

        try:
            data = read_photo_bytes(job.photo.image_path, self.landing, MAX_SOURCE_BYTES, sha256=job.photo.sha256)
        except MediaError as exc:
            return job, None, f"source refused: {exc}"
        except Exception as exc:  # noqa: BLE001 - a per-photo source problem, recorded
            return job, None, f"source unreadable: {type(exc).__name__}: {exc}"
        return job, data, None

    def _put_verified(self, key: str, data: bytes, digest: str) -> None:
        self.store.put(key, data)
        if _sha(self.store.get(key)) != digest:
            raise CopyVerificationError(f"region {self.region.code}: {key} differs from its source after copy")

    def _copy(self, batch: list[_Copy], listing: dict) -> None:
        pool = ThreadPoolExecutor(self.workers) if self.workers > 1 else None
        try:
            sources = list(pool.map(self._read_source, batch) if pool else map(self._read_source, batch))
            plans = []  # (job, key, digest, data, adopt)
            for job, data, error in sources:
                if error:
                    self.result.errors.append({"photo_id": job.photo.photo_id, "error": error})
                    log.warning("region %s: photo %s not copied: %s", self.region.code, job.photo.photo_id, error)
                    continue
                digest = _sha(data)
                key = object_key(job.photo.photo_id, digest, job.photo.image_path)
                adopt = key in listing and listing[key] == len(data) and _sha(self.store.get(key)) == digest
                plans.append((job, key, digest, data, adopt))
            intents = [
                (job.photo.photo_id, job.photo.owner_id, "copy_started", job.reason, None, key, digest,
                 job.decision.event.event_id if job.decision.event else None, None)
                for job, key, digest, data, adopt in plans
                if not adopt
            ]
            with self.conn.cursor() as cur:
                self._audit(cur, intents)
            self.conn.commit()
            to_put = [(key, data, digest) for job, key, digest, data, adopt in plans if not adopt]
            if pool:
                list(pool.map(lambda a: self._put_verified(*a), to_put))
            else:
                for args in to_put:
                    self._put_verified(*args)
        finally:
            if pool:
                pool.shutdown()

        audit, inv_rows, to_delete = [], [], []
        for job, key, digest, data, adopt in plans:
            pid, owner = job.photo.photo_id, job.photo.owner_id
            event_id = job.decision.event.event_id if job.decision.event else None
            if adopt and job.inv is not None and key == job.inv.object_key:
                # same bytes under a new image_path (no sha256 in raw to tell): nothing moved
                inv_rows.append((self.region.code, pid, owner, key, digest, len(data), job.photo.image_path,
                                 job.inv.replicated_at, job.inv.held_since, event_id, self.run_id))
                continue
            keep_since = job.inv is not None and job.reason != c.CONSENT_GRANTED
            held_since = job.inv.held_since if keep_since else self.at
            inv_rows.append((self.region.code, pid, owner, key, digest, len(data), job.photo.image_path,
                             self.at, held_since, event_id, self.run_id))
            if adopt:
                audit.append((pid, owner, "repair", c.DRIFT_REPAIRED, "in", key, digest, event_id,
                              f"verified object already in the store adopted ({job.reason})"))
                self.result.repaired += 1
            elif job.reason == c.DRIFT_REPAIRED:
                audit.append((pid, owner, "repair", c.DRIFT_REPAIRED, "in", key, digest, event_id,
                              "object missing from the store or of the wrong size: copied again"))
                self.result.repaired += 1
            else:
                audit.append((pid, owner, "copy", job.reason, "in", key, digest, event_id, None))
                self.result.copied += 1
            old = [job.inv.object_key] if job.inv is not None and job.inv.object_key != key and job.inv.object_key in listing else []
            for old_key in old:
                audit.append((pid, owner, "delete", "superseded", "in", old_key, job.inv.sha256, None,
                              "previous version of the photo, replaced"))
                to_delete.append(old_key)
            for orphan in job.orphans:
                if orphan != key and orphan not in old:
                    audit.append((pid, owner, "repair", c.DRIFT_REPAIRED, "in", orphan, None, None,
                                  "stale object unknown to the inventory deleted; the current one stays"))
                    to_delete.append(orphan)
                    self.result.repaired += 1
        from psycopg2.extras import execute_values

        with self.conn.cursor() as cur:
            if inv_rows:
                execute_values(
                    cur,
                    """insert into replication.inventory (region, photo_id, owner_id, object_key, sha256,
                           size_bytes, source_path, replicated_at, held_since, consent_event_id, run_id)
                       values %s
                       on conflict (region, photo_id) do update set owner_id = excluded.owner_id,
                           object_key = excluded.object_key, sha256 = excluded.sha256,
                           size_bytes = excluded.size_bytes, source_path = excluded.source_path,
                           replicated_at = excluded.replicated_at, held_since = excluded.held_since,
                           consent_event_id = excluded.consent_event_id, run_id = excluded.run_id""",
                    inv_rows,
                    page_size=1000,
                )
            self._audit(cur, audit)
        self.conn.commit()  # the object is in the store and verified: now the inventory claims it
        for key in to_delete:
            self.store.delete(key)

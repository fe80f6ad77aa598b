"""The catalogue side in PostgreSQL: which photos are indexed, their stored hashes, and the
in-memory :class:`CatalogIndex` rebuilt from them.

Eligible photos are the ones not deleted that are exclusive by the one rule
(``licensing.photo_exclusivity``: support's change, else the photo's flag, else the owner's
default at upload), read when the catalogue is synced, so a support change or an owner's
default reaches the sweep and the audit in their next run. Photos on exclusivity hold stay indexed: the caller decides what a hold means (a
match on a held photo is recorded as ``exclusivity_hold`` rather than opening a case).
"""
from __future__ import annotations

import json
from typing import Callable

from lightbox.matching.decode import BadImage
from lightbox.matching.hashing import HASH_VERSION, HashResult, hash_image
from lightbox.matching.index import CatalogIndex

_ELIGIBLE = """
    select p.photo_id, p.image_path, p.sha256
    from raw.photos as p
    join licensing.photo_exclusivity as x on x.photo_id = p.photo_id
    where x.is_exclusive and p.deleted_at is null
"""


def _default_reader(image_path: str) -> bytes:
    from lightbox.landing.media import read_photo_bytes

    return read_photo_bytes(image_path)


def sync_catalog(conn, read_bytes: Callable[[str], bytes] | None = None) -> dict:
    """Bring ``matching.photo_hashes`` in line with the eligible photos: hash the ones not
    hashed yet (or whose sha256, image_path or hash version changed), delete rows of photos
    no longer eligible, and record unreadable images in ``matching.hash_failures``.
    Idempotent; each photo is committed on its own so one bad image never stops the batch.
    Returns counts."""
    read_bytes = read_bytes or _default_reader
    counts = {"eligible": 0, "hashed": 0, "unchanged": 0, "failed": 0, "removed": 0, "not_matchable": 0}
    with conn.cursor() as cur:
        cur.execute(_ELIGIBLE)
        eligible = cur.fetchall()
        cur.execute("select photo_id, sha256, image_path, hash_version from matching.photo_hashes")
        stored = {r[0]: r[1:] for r in cur.fetchall()}
        cur.execute("select photo_id, sha256, image_path from matching.hash_failures")
        failed = {r[0]: r[1:] for r in cur.fetchall()}
    counts["eligible"] = len(eligible)
    eligible_ids = {r[0] for r in eligible}
    for photo_id, image_path, sha in eligible:
        if photo_id in stored and stored[photo_id] == (sha, image_path, HASH_VERSION):
            counts["unchanged"] += 1
            continue
        if photo_id in failed and failed[photo_id] == (sha, image_path) and sha is not None:
            counts["failed"] += 1  # same bytes failed before; retried when the photo changes
            continue
        try:
            data = read_bytes(image_path)
            h = hash_image(data, catalog=True)
        except BadImage as exc:
            _record_failure(conn, photo_id, sha, image_path, exc.reason)
            counts["failed"] += 1
            continue
        except (OSError, ValueError) as exc:
            _record_failure(conn, photo_id, sha, image_path, f"unreadable: {type(exc).__name__}: {exc}"[:500])
            counts["failed"] += 1
            continue
        _store(conn, photo_id, sha, image_path, h)
        counts["hashed"] += 1
        counts["not_matchable"] += 0 if h.matchable else 1
    with conn.cursor() as cur:
        for table in ("matching.photo_hashes", "matching.hash_failures"):
            cur.execute(f"select photo_id from {table}")
            gone = [r[0] for r in cur.fetchall() if r[0] not in eligible_ids]
            if gone:
                cur.execute(f"delete from {table} where photo_id = any(%s)", (gone,))
                if table == "matching.photo_hashes":
                    counts["removed"] += len(gone)
    if not conn.autocommit:
        conn.commit()
    return counts


def _store(conn, photo_id, sha, image_path, h: HashResult) -> None:
    rows = h.select(("global",), ("identity",))
    global_hash = f"{int(h.h64[rows[0]]):016x}" if len(rows) else ""
    with conn.cursor() as cur:
        cur.execute(
            """
            insert into matching.photo_hashes
                (photo_id, sha256, image_path, hash_version, quality, is_matchable, global_hash,
                 n_hashes, descriptor, hashed_at)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, now())
            on conflict (photo_id) do update set
                sha256 = excluded.sha256, image_path = excluded.image_path,
                hash_version = excluded.hash_version, quality = excluded.quality,
                is_matchable = excluded.is_matchable, global_hash = excluded.global_hash,
                n_hashes = excluded.n_hashes, descriptor = excluded.descriptor,
                hashed_at = excluded.hashed_at
            """,
            (photo_id, sha, image_path, HASH_VERSION, h.quality, h.matchable, global_hash,
             len(h.h64), json.dumps(h.to_record())),
        )
        cur.execute("delete from matching.hash_failures where photo_id = %s", (photo_id,))
    if not conn.autocommit:
        conn.commit()


def _record_failure(conn, photo_id, sha, image_path, reason: str) -> None:
    with conn.cursor() as cur:
        cur.execute(
            """
            insert into matching.hash_failures (photo_id, sha256, image_path, reason, failed_at)
            values (%s, %s, %s, %s, now())
            on conflict (photo_id) do update set
                sha256 = excluded.sha256, image_path = excluded.image_path,
                reason = excluded.reason, failed_at = excluded.failed_at
            """,
            (photo_id, sha, image_path, reason),
        )
        cur.execute("delete from matching.photo_hashes where photo_id = %s", (photo_id,))
    if not conn.autocommit:
        conn.commit()


def load_index(conn, **index_kwargs) -> CatalogIndex:
    """A CatalogIndex of every stored, current-version hash (photos on exclusivity hold
    included). Rows of an older hash version are skipped until sync_catalog re-hashes them."""
    index = CatalogIndex(**index_kwargs)
    with conn.cursor() as cur:
        cur.execute(
            "select photo_id, descriptor from matching.photo_hashes where hash_version = %s order by photo_id",
            (HASH_VERSION,),
        )
        for photo_id, descriptor in cur.fetchall():
            record = descriptor if isinstance(descriptor, dict) else json.loads(descriptor)
            index.add(photo_id, HashResult.from_record(record))
    return index

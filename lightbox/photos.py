"""``lightbox photos set-exclusive PHOTO_ID true|false --by WHO --why TEXT``: customer
support's changes to a photo.

A change is a row of ``licensing.exclusivity_changes`` (who, why, when); the one exclusivity
rule (``licensing.photo_exclusivity``) puts it before the photo's flag and its owner's
default, so the sweep, the audit, replication and where-is follow it from their next run.
"""
from __future__ import annotations

import argparse
import contextlib
import sys


class ScanInProgress(RuntimeError):
    pass


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("photos", help="customer-support changes to photos")
    sub = p.add_subparsers(dest="photos_action", metavar="ACTION", required=True)
    q = sub.add_parser("set-exclusive", help="change a photo's exclusivity once its AI scan is finished")
    q.add_argument("photo_id")
    q.add_argument("exclusive", choices=["true", "false"])
    q.add_argument("--by", required=True, help="who asks for the change")
    q.add_argument("--why", required=True, help="why (kept in the audit trail)")
    q.set_defaults(func=cmd_set_exclusive)


def set_exclusive(conn, photo_id: str, exclusive: bool, by: str, why: str, at=None) -> dict:
    """Change a photo's effective exclusivity, recorded in ``licensing.exclusivity_changes``.
    Refused (ScanInProgress) while the photo's AI scan is waiting or running: the scan
    routes a photo by its exclusivity."""
    import psycopg2.errors

    from ml.score import scan_in_progress

    if not by.strip() or not why.strip():
        raise ValueError("--by and --why must say who and why")
    with conn.cursor() as cur:
        # the row lock conflicts with a scan's write transaction (which holds it "for share")
        try:
            cur.execute("select photo_id from raw.photos where photo_id = %s for update nowait", (photo_id,))
        except psycopg2.errors.LockNotAvailable as exc:
            conn.rollback()
            raise ScanInProgress(f"photo {photo_id} is being scanned right now; try again when the scan is finished") from exc
        if cur.fetchone() is None:
            conn.rollback()
            raise KeyError(f"unknown photo {photo_id!r}")
        if scan_in_progress(conn, photo_id, at):
            conn.rollback()
            raise ScanInProgress(f"photo {photo_id} is waiting for its AI scan; exclusivity can change once the scan is finished")
        cur.execute("select is_exclusive from licensing.photo_exclusivity where photo_id = %s", (photo_id,))
        previous = cur.fetchone()[0]
        cur.execute(
            """insert into licensing.exclusivity_changes (photo_id, exclusive, previous_exclusive, changed_by, reason, changed_at)
               values (%s, %s, %s, %s, %s, coalesce(%s, now())) returning change_id""",
            (photo_id, exclusive, previous, by, why, at),
        )
        change_id = cur.fetchone()[0]
    conn.commit()
    return {"change_id": change_id, "photo_id": photo_id, "exclusive": exclusive, "previous": previous}


def cmd_set_exclusive(args) -> int:
    from lightbox import db

    with contextlib.closing(db.connect()) as conn:
        try:
            result = set_exclusive(conn, args.photo_id, args.exclusive == "true", args.by, args.why)
        except (ScanInProgress, KeyError, ValueError) as exc:
            print(f"refused: {exc}", file=sys.stderr)
            return 1
    print(f"photo {result['photo_id']}: exclusive {result['previous']} -> {result['exclusive']} (change {result['change_id']})")
    return 0

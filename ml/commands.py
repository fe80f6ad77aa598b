"""``lightbox models list|promote VERSION|rollback`` and
``lightbox photos set-exclusive PHOTO_ID true|false --by WHO --why TEXT``."""
from __future__ import annotations

import argparse
import getpass
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("models", help="AI scan model versions: list, promote, roll back")
    sub = p.add_subparsers(dest="models_action", metavar="ACTION", required=True)
    q = sub.add_parser("list", help="every model version with its metrics; * marks the champion")
    q.set_defaults(func=cmd_models_list)
    q = sub.add_parser("promote", help="make VERSION the champion (its artifact must load)")
    q.add_argument("version")
    q.add_argument("--by", default=None, help="who (default: the OS user)")
    q.add_argument("--why", default="promoted by hand")
    q.set_defaults(func=cmd_models_promote)
    q = sub.add_parser("rollback", help="give the champion role back to the version it replaced")
    q.add_argument("--by", default=None)
    q.add_argument("--why", default="rolled back by hand")
    q.set_defaults(func=cmd_models_rollback)

    p = subparsers.add_parser("photos", help="customer-support changes to photos")
    sub = p.add_subparsers(dest="photos_action", metavar="ACTION", required=True)
    q = sub.add_parser("set-exclusive", help="change a photo's exclusivity once its AI scan is finished")
    q.add_argument("photo_id")
    q.add_argument("exclusive", choices=["true", "false"])
    q.add_argument("--by", required=True, help="who asks for the change")
    q.add_argument("--why", required=True, help="why (kept in the audit trail)")
    q.set_defaults(func=cmd_set_exclusive)


def _conn():
    from lightbox import db

    return db.connect()


def cmd_models_list(args) -> int:
    from ml.registry import list_versions

    conn = _conn()
    try:
        versions = list_versions(conn)
    finally:
        conn.close()
    if not versions:
        print("no model versions yet (run licensing_train_model)")
        return 0
    print(f"{'':2}{'version':24} {'trained_at':25} {'roc_auc':>8} {'brier':>7} {'ece':>6}  notes")
    for v in versions:
        m = (v["metrics"] or {}).get("p_suitable", {})
        auc, brier, ece = (m.get(k) for k in ("roc_auc", "brier", "ece"))
        fmt = lambda x: "—" if x is None else f"{x:.4f}"  # noqa: E731
        print(f"{'*' if v['is_champion'] else ' ':2}{v['version']:24} {str(v['trained_at']):25} "
              f"{fmt(auc):>8} {fmt(brier):>7} {fmt(ece):>6}  {v['notes'] or ''}")
    return 0


def cmd_models_promote(args) -> int:
    from ml.registry import ModelLoadError, promote

    conn = _conn()
    try:
        previous = promote(conn, args.version, by=args.by or getpass.getuser(), reason=args.why)
    except (KeyError, ModelLoadError) as exc:
        print(f"not promoted: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    print(f"{args.version} is champion (was {previous or 'none'})")
    return 0


def cmd_models_rollback(args) -> int:
    from ml.registry import ModelLoadError, rollback

    conn = _conn()
    try:
        old, new = rollback(conn, by=args.by or getpass.getuser(), reason=args.why)
    except (LookupError, ModelLoadError) as exc:
        print(f"not rolled back: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    print(f"champion rolled back from {old} to {new}")
    return 0


class ScanInProgress(RuntimeError):
    pass


def set_exclusive(conn, photo_id: str, exclusive: bool, by: str, why: str, at=None) -> dict:
    """Change a photo's effective exclusivity, recorded in ``licensing.exclusivity_changes``.
    Refused (ScanInProgress) while the photo's AI scan is waiting or running."""
    from ml.score import scan_in_progress

    if not by.strip() or not why.strip():
        raise ValueError("--by and --why must say who and why")
    with conn.cursor() as cur:
        # the row lock conflicts with a scan's write transaction (which holds it "for share")
        try:
            cur.execute("select photo_id from raw.photos where photo_id = %s for update nowait", (photo_id,))
        except Exception as exc:  # psycopg2.errors.LockNotAvailable
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
    conn = _conn()
    try:
        result = set_exclusive(conn, args.photo_id, args.exclusive == "true", args.by, args.why)
    except (ScanInProgress, KeyError, ValueError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    print(f"photo {result['photo_id']}: exclusive {result['previous']} -> {result['exclusive']} (change {result['change_id']})")
    return 0

"""``lightbox models list|promote VERSION|rollback``. (``lightbox photos set-exclusive`` lives
in :mod:`lightbox.photos`.)"""
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

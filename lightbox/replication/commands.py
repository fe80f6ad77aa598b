"""``lightbox where-is USER_ID [--json]``: where a user's photos are replicated."""
from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "where-is",
        help="regions holding each of a user's photos, since when, on which consent, and removals",
    )
    p.add_argument("user_id", metavar="USER_ID")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_where_is)


def cmd_where_is(args) -> int:
    from lightbox import db
    from lightbox.replication.whereis import render, where_is

    conn = db.connect()
    try:
        answer = where_is(conn, args.user_id)
    finally:
        conn.close()
    if args.json:
        json.dump(answer, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(render(answer))
    return 0 if answer["known"] or answer["photos"] else 1

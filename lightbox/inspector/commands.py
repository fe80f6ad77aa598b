"""``lightbox inspectors add|disable|list`` and ``lightbox inspector serve``.

The app runs as its own process (uvicorn), not as an Airflow plugin under the Airflow API
server: inspectors are not Airflow users and must not need Airflow accounts or see the
Airflow UI; the app connects with its own least-privilege database role (``inspector_app``)
instead of Airflow's; it restarts and scales independently (the cluster runs it as its own
container); and it does not depend on Airflow's plugin and auth-manager interfaces, which
change between Airflow releases. ``lightbox up`` starts it with ``serve(port)`` (or uvicorn
on ``lightbox.inspector.app:create_app`` with ``factory=True``).
"""
from __future__ import annotations

import argparse
import getpass
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("inspectors", help="inspector accounts of the inspector app")
    sub = p.add_subparsers(dest="inspectors_action", metavar="ACTION", required=True)
    a = sub.add_parser("add", help="create an inspector (or set a new password and re-enable one)")
    a.add_argument("name")
    a.add_argument("--password-stdin", action="store_true", help="read the password from stdin (first line)")
    a.set_defaults(func=cmd_add)
    d = sub.add_parser("disable", help="disable an inspector: no sign-in, sessions ended, claims returned")
    d.add_argument("name")
    d.set_defaults(func=cmd_disable)
    ls = sub.add_parser("list", help="list inspectors")
    ls.set_defaults(func=cmd_list)

    p = subparsers.add_parser("inspector", help="the inspector web app")
    sub = p.add_subparsers(dest="inspector_action", metavar="ACTION", required=True)
    s = sub.add_parser("serve", help="serve the inspector app (uvicorn) until Ctrl-C")
    s.add_argument("--port", type=int, default=8090)
    s.add_argument("--host", default="127.0.0.1", help="interface to listen on (default loopback)")
    s.set_defaults(func=cmd_serve)


def _admin_connection():
    from lightbox import db, schema

    schema.setup()  # the server is up and the schema (with licensing.inspectors) applied
    return db.connect()


def _read_password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise SystemExit("no terminal to ask for a password: use --password-stdin")
    first = getpass.getpass(f"Password for {args.name}: ")
    if first != getpass.getpass("Again: "):
        raise SystemExit("the passwords differ")
    return first


def cmd_add(args) -> int:
    from lightbox.inspector import accounts

    try:
        accounts.validate_name(args.name)
        password = _read_password(args)
        conn = _admin_connection()
        try:
            created = accounts.add_inspector(conn, args.name, password)
        finally:
            conn.close()
    except accounts.AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"inspector {args.name} {'added' if created else 'updated (new password, enabled)'}")
    return 0


def cmd_disable(args) -> int:
    from lightbox.inspector import accounts

    conn = _admin_connection()
    try:
        found = accounts.disable_inspector(conn, args.name)
    finally:
        conn.close()
    if not found:
        print(f"error: no inspector named {args.name}", file=sys.stderr)
        return 1
    print(f"inspector {args.name} disabled")
    return 0


def cmd_list(args) -> int:
    from lightbox.inspector import accounts

    conn = _admin_connection()
    try:
        rows = accounts.list_inspectors(conn)
    finally:
        conn.close()
    for row in rows:
        print(f"{row['inspector_id']}\t{'disabled' if row['is_disabled'] else 'enabled'}\t{row['created_at']:%Y-%m-%d}")
    return 0


def cmd_serve(args) -> int:
    from lightbox import schema
    from lightbox.inspector.app import serve

    schema.setup()
    print(f"inspector app on http://{args.host}:{args.port}/ (API docs: /api/docs)")
    serve(port=args.port, host=args.host)
    return 0

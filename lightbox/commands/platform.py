"""``lightbox db|seed|run|demo|up``: the platform's own sub-commands."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("db", help="the embedded PostgreSQL server")
    p.add_argument("action", choices=["start", "stop", "status", "url"])
    p.add_argument("--database", default="lightbox", help="database for 'url' (lightbox or airflow)")
    p.set_defaults(func=cmd_db)

    p = subparsers.add_parser("seed", help="write a deterministic sample marketplace into the landing folder")
    p.add_argument("--scale", choices=["small", "medium", "large", "aiscan"], default="small",
                   help="aiscan: the AI scan's evaluation marketplace (degraded sample photos, known Bayes-optimal AUC)")
    p.add_argument("--out", help="landing folder to write (default: LIGHTBOX_LANDING)")
    p.add_argument("--seed", type=int, default=7, help="random seed (same seed, same data)")
    p.set_defaults(func=cmd_seed)

    p = subparsers.add_parser("run", help="run DAGs once, in dependency order (default: all)")
    p.add_argument("dag_ids", nargs="*", metavar="DAG_ID")
    p.add_argument("--landing", help="landing folder (default: LIGHTBOX_LANDING)")
    p.add_argument("--logical-date", help="the runs' logical date, ISO 8601 (default: now)")
    p.set_defaults(func=cmd_run)

    p = subparsers.add_parser("demo", help="database, sample data, sample sites, every DAG, a summary")
    p.add_argument("--scale", choices=["small", "medium", "large"], default="small")
    p.set_defaults(func=cmd_demo)

    p = subparsers.add_parser(
        "dbt", help="run dbt in dbt/ with the warehouse's profile, e.g. `lightbox dbt docs generate`",
        prefix_chars="\0",  # every argument goes to dbt as it is
    )
    p.add_argument("dbt_args", nargs="*", metavar="DBT_ARG")
    p.set_defaults(func=cmd_dbt)

    p = subparsers.add_parser("up", help="Airflow UI, inspector app, Data Docs and sample sites until Ctrl-C or SIGTERM")
    p.add_argument("--port", type=int, default=8080,
                   help="Airflow UI port; the other services use ports above it (inspector +10, Data Docs +11, "
                        "Airflow's log servers +93 and +94)")
    p.add_argument("--inspector-port", type=int, help="inspector app port (default: --port + 10)")
    p.add_argument("--docs-port", type=int, help="Data Docs port (default: --port + 11)")
    p.set_defaults(func=cmd_up)


def cmd_db(args) -> int:
    from lightbox import db

    if args.action == "start":
        from lightbox import schema
        from lightbox.inspector.pool import LOGIN_ROLE, set_login_password

        url = schema.setup()  # the schema creates the inspector app's login role
        conn = db.connect(url)
        try:
            with_password = set_login_password(conn)
        finally:
            conn.close()
        print(f"PostgreSQL is running; warehouse: {url}")
        print(f"inspector app login role: {LOGIN_ROLE}"
              + (" (password from LIGHTBOX_INSPECTOR_DB_PASSWORD)" if with_password else " (no password set)"))
        return 0
    if args.action == "stop":
        print("stopped" if db.stop() else "not running (or not embedded)")
        return 0
    if args.action == "status":
        info = db.status()
        for key, value in info.items():
            print(f"{key}: {value}")
        return 0 if info.get("running") else 1
    print(db.server_url(args.database))
    return 0


def cmd_seed(args) -> int:
    from lightbox.config import settings
    from lightbox.seed import generate

    out = args.out or str(settings().landing)
    if args.scale == "aiscan":
        from lightbox.seed.aiscan import generate_aiscan

        manifest = generate_aiscan(out, seed=args.seed)
        summary = {k: v for k, v in manifest.items() if k != "photos"} | {"manifest": f"{out}/_aiscan.json"}
    else:
        summary = generate(out, scale=args.scale, seed=args.seed)
    for key, value in summary.items():
        print(f"{key}: {value}")
    return 0


def cmd_run(args) -> int:
    from lightbox import runner

    return runner.exit_code(runner.run_dags(args.dag_ids, landing=args.landing, logical_date=args.logical_date))


def cmd_demo(args) -> int:
    from lightbox import demo

    return demo.run_demo(scale=args.scale)


def cmd_dbt(args) -> int:
    from lightbox import marts

    return marts.dbt(*args.dbt_args, url=None if args.dbt_args[:1] == ["parse"] else _warehouse(), check=False,
                     capture=False).returncode


def _warehouse() -> str:
    from lightbox import schema

    return schema.setup()


def cmd_up(args) -> int:
    from lightbox.commands.up import run_up

    return run_up(port=args.port, inspector_port=args.inspector_port, docs_port=args.docs_port)

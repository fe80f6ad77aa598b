"""``lightbox cluster up|down|status|env|compose``: the cluster mode as local processes."""
from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("cluster", help="the cluster mode (CeleryExecutor, Redis, S3) as local processes")
    p.add_argument("action", choices=["up", "down", "status", "env", "compose"])
    p.add_argument("--workers", type=int, default=2, help="Celery workers (up; default 2)")
    p.add_argument("--dir", help="the cluster's folder (default $LIGHTBOX_HOME/cluster)")
    p.add_argument("--port", type=int, help="Airflow UI/API port (up; default 8080)")
    p.add_argument("--port-base", type=int, help="ports base, base+1… for every service (up)")
    p.add_argument("--free-ports", action="store_true", help="OS-assigned free ports for every service (up)")
    p.add_argument("--timeout", type=float, default=900, help="seconds to wait for health (up)")
    p.add_argument("--purge", action="store_true", help="also delete the cluster's data (down)")
    p.set_defaults(func=cmd_cluster)


def cmd_cluster(args) -> int:
    from lightbox.cluster import local

    try:
        if args.action == "up":
            print(f"starting the cluster ({args.workers} Celery workers) …")
            state = local.up(args.workers, args.dir, port_base=args.port_base, api_port=args.port,
                             free_ports=args.free_ports, timeout=args.timeout)
            ports = state["ports"]
            print(f"Airflow UI:     http://localhost:{ports['api']}  (user admin; password: AIRFLOW_ADMIN_PASSWORD "
                  f"in {state['root']}/secrets.env)")
            print(f"Inspector app:  http://localhost:{ports['inspector']}")
            print(f"Data Docs:      http://localhost:{ports['docs']}/")
            print(f"logs: {state['root']}/logs; `lightbox cluster status`; `lightbox cluster down` stops it")
            return 0
        if args.action == "down":
            local.down(args.dir, purge=args.purge)
            return 0
        if args.action == "status":
            info = local.status(args.dir)
            for name, value in info["services"].items():
                print(f"{name:<24} {value}")
            if not info["services"]:
                print("not running")
            return 0 if info["running"] else 1
        if args.action == "env":
            for key, value in sorted(local.client_environment(args.dir).items()):
                print(f"export {key}='{value}'")
            return 0
        from lightbox.cluster import compose

        sys.stdout.write(compose.render())
        return 0
    except local.ClusterError as exc:
        print(f"cluster: {exc}", file=sys.stderr)
        return 1

"""The ``lightbox`` command: database, sample data, running DAGs, the demo and the UI.

Domain packages add their own sub-commands (``where-is``, ``inspectors``, ``models``…): each
module in ``COMMAND_MODULES`` has ``register(subparsers)``.
"""
from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import warnings

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

COMMAND_MODULES = (
    "lightbox.commands.platform",
    "lightbox.replication.commands",
    "lightbox.inspector.commands",
    "lightbox.exclusivity.commands",
    "lightbox.settlement.commands",
    "lightbox.infringement.commands",
    "lightbox.photos",
    "ml.commands",
    "lightbox.quality.commands",
    "lightbox.cluster.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lightbox", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug output")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    result = args.func(args)
    if isinstance(result, (dict, list)):
        json.dump(result, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return 0
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())

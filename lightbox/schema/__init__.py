"""The warehouse schema: the raw tables of the landing contract, then the SQL files of this
folder in name order (schemas, licensing, matching, infringement, exclusivity, settlement,
replication, inspector, roles, quality). Every statement is idempotent.

It sits above :mod:`lightbox.db` (which only reaches the server) and the landing contract
(which owns the raw tables): see docs/architecture.md.
"""
from __future__ import annotations

from pathlib import Path

from lightbox import db
from lightbox.landing.contract import raw_ddl

SCHEMA_DIR = Path(__file__).parent


def schema_files() -> list[Path]:
    return sorted(SCHEMA_DIR.glob("*.sql"))


def apply_schema(url: str | None = None) -> None:
    """Create every warehouse schema, table and view that is missing. Idempotent; an
    advisory lock serialises concurrent callers."""
    with db.transaction(url) as conn, conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext('lightbox.apply_schema'))")
        cur.execute(raw_ddl())
        for path in schema_files():
            cur.execute(path.read_text())


def setup() -> str:
    """Start or reach the server, create both databases, apply the warehouse schema.
    Returns the warehouse URL."""
    url = db.setup()
    apply_schema(url)
    return url

"""What several benchmarks share: JSON-line output and a fresh warehouse database."""
from __future__ import annotations

import json


def emit(**fields) -> None:
    """One figure per line, as JSON."""
    print(json.dumps(fields), flush=True)


def fresh_database(name: str) -> str:
    """Drop and create database ``name`` on the configured server, with the whole schema."""
    from lightbox import db, schema

    admin = db.connect(db.server_url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
        cur.execute(f'create database "{name}"')
    admin.close()
    url = db.server_url(name)
    schema.apply_schema(url)
    return url

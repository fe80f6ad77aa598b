"""The dbt project in ``dbt/``: its environment (the profile is built from the same database
configuration as everything else), the precompiled manifest Cosmos renders the
``marts_build`` DAG from, and plain dbt commands for tests and benchmarks."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lightbox import db
from lightbox.config import REPO_ROOT

DBT_DIR = REPO_ROOT / "dbt"
MANIFEST = DBT_DIR / "target" / "manifest.json"


def dbt_environment(url: str | None = None) -> dict[str, str]:
    """Variables dbt/profiles.yml reads (LIGHTBOX_DBT_*), from a libpq URL."""
    params = db.connection_params(url or db.warehouse_url())
    return {
        "LIGHTBOX_DBT_HOST": str(params["host"]),
        "LIGHTBOX_DBT_PORT": str(params["port"]),
        "LIGHTBOX_DBT_USER": params["user"],
        "LIGHTBOX_DBT_PASSWORD": params["password"],
        "LIGHTBOX_DBT_DBNAME": params["dbname"],
        "DBT_PROFILES_DIR": str(DBT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def dbt_executable() -> str:
    return str(Path(sys.executable).with_name("dbt"))


def dbt(*args: str, url: str | None = None, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess:
    """Run a dbt command in the project with the warehouse's profile."""
    parse_only = args[:1] == ("parse",) and url is None
    env = {**os.environ, **(_parse_env() if parse_only else dbt_environment(url))}
    proc = subprocess.run(
        [dbt_executable(), *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)],
        cwd=DBT_DIR, env=env, capture_output=capture, text=True,
    )
    if check and proc.returncode != 0:
        out = (proc.stdout or "")[-6000:] + (proc.stderr or "")[-3000:]
        raise RuntimeError(f"dbt {' '.join(args)} failed:\n{out}")
    return proc


def _parse_env() -> dict[str, str]:
    # `dbt parse` reads the profile but never connects: placeholders do.
    return {"DBT_PROFILES_DIR": str(DBT_DIR), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


def _sources_mtime() -> float:
    paths = [DBT_DIR / "dbt_project.yml", DBT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "tests", "analyses"):
        paths.extend(p for p in (DBT_DIR / folder).rglob("*") if p.is_file())
    return max(p.stat().st_mtime for p in paths if p.exists())


def ensure_manifest() -> Path:
    """Write dbt/target/manifest.json with `dbt parse` when it is missing or older than the
    project's files. The marts_build DAG renders from it: no dbt command at parse time."""
    if not MANIFEST.exists() or MANIFEST.stat().st_mtime < _sources_mtime():
        dbt("parse", "--no-partial-parse")
    return MANIFEST


def deliver_a_day(landing: Path, url: str | None = None, *, sales: int = 2000, photos: int = 5000,
                  inspections: int = 500, partner_lines: int = 100, tag: str = "day") -> dict[str, int]:
    """Write a later day's landing files (one per source) next to data already loaded: new
    photos and newer versions of old ones (some deleted), sales (a tenth of them sold a week
    before they arrive), inspector decisions (a tenth about a week earlier), and one partner
    report. For the incremental-build benchmark and tests; ingest them with the landing step."""
    import csv
    from datetime import timedelta

    from lightbox.landing.contract import SOURCES

    conn = db.connect(url or db.warehouse_url())
    with conn.cursor() as cur:
        cur.execute("select greatest(max(uploaded_at), max(updated_at)) from raw.photos")
        day = (cur.fetchone()[0]).replace(hour=12, minute=0, second=0, microsecond=0) + timedelta(days=1)
        photo_cols = list(SOURCES["photos"].column_names)
        cur.execute(f"select {', '.join(photo_cols)} from raw.photos order by photo_id limit %s", (max(photos // 10, 1),))
        old = cur.fetchall()
        cur.execute("select user_id from raw.users order by user_id limit 500")
        owners = [r[0] for r in cur.fetchall()]
        cur.execute("select distinct inspector_id from raw.inspections order by 1 limit 20")
        inspectors = [r[0] for r in cur.fetchall()] or ["inspector-day"]
        cur.execute("select case_id, photo_id, infringer_domain from infringement.cases order by case_id limit %s",
                    (partner_lines,))
        cases = cur.fetchall()
    conn.close()

    def write(source: str, header: list[str], rows: list) -> None:
        folder = landing / source
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"{source}_{tag}_{day.date().isoformat()}.csv").open("w", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(header)
            out.writerows(rows)

    stamp = day.isoformat()
    new_ids = [f"{tag}-{day.date().isoformat()}-p{i}" for i in range(photos - len(old))]
    rows = []
    for i, photo_id in enumerate(new_ids):
        template = dict(zip(photo_cols, old[i % len(old)]))
        template.update(photo_id=photo_id, owner_id=owners[i % len(owners)], uploaded_at=stamp, updated_at=stamp,
                        deleted_at=None, sha256=None)
        rows.append([template[c] for c in photo_cols])
    for i, row in enumerate(old):  # newer versions of old photos: recategorised, or deleted
        template = dict(zip(photo_cols, row))
        template.update(updated_at=stamp, category="day-recategorised")
        if i % 5 == 0:
            template["deleted_at"] = stamp
        rows.append([template[c] for c in photo_cols])
    write("photos", photo_cols, rows)

    sold = [new_ids[i % len(new_ids)] if i % 2 else old[i % len(old)][0] for i in range(sales)]
    write("sales", ["sale_id", "photo_id", "sold_at", "license_type", "amount", "currency"], [
        [f"{tag}-{day.date().isoformat()}-s{i}", photo,
         (day - timedelta(days=7) if i % 10 == 0 else day).isoformat(), "standard", "19.00", "USD"]
        for i, photo in enumerate(sold)
    ])
    write("inspections", ["photo_id", "inspector_id", "decision", "reason", "decided_at"], [
        [new_ids[i % len(new_ids)] if i % 2 else old[i % len(old)][0], inspectors[i % len(inspectors)],
         ("accepted", "rejected", "changes_required")[i % 3], "",
         (day - timedelta(days=6, seconds=i) if i % 10 == 0 else day + timedelta(seconds=i)).isoformat()]
        for i in range(inspections)
    ])
    write("settlement_reports", ["partner", "report_id", "line_id", "case_ref", "photo_id", "infringer_domain",
                                 "gross_amount", "currency", "partner_fee", "collected_at"], [
        ["day-partner", f"{tag}-{day.date().isoformat()}", f"L{i}", case[0] if case else "", "", "", "100.00", "USD",
         "10.00", stamp]
        for i, case in enumerate((cases or [None]) * (partner_lines // max(len(cases), 1) + 1))
        if i < partner_lines
    ])
    return {"photos": len(rows), "sales": sales, "inspections": inspections, "partner_lines": partner_lines}

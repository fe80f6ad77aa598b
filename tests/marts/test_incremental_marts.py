"""Incremental dbt builds: after a later day of data (new rows, newer versions of old photos,
sales and decisions that arrive late), an incremental build gives exactly the tables that a
full refresh gives on the same data, and it read only the new rows."""
import json

import pytest

from lightbox import db, marts

# the strictest watermark: an incremental build reads nothing that arrived before the last one
NO_LOOKBACK = ("--vars", json.dumps({"incremental_lookback": "0 seconds"}))


def _tables(url: str) -> dict[str, list]:
    conn = db.connect(url)
    out = {}
    with conn.cursor() as cur:
        cur.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('staging', 'intermediate', 'marts') and table_type = 'BASE TABLE' order by 1"
        )
        for (table,) in cur.fetchall():
            cur.execute("select column_name from information_schema.columns "
                        "where table_schema || '.' || table_name = %s and column_name <> '_built_at' "
                        "order by ordinal_position", (table,))
            columns = ", ".join(f'"{c}"' for (c,) in cur.fetchall())
            cur.execute(f"select {columns} from {table}")  # all but when each row was built
            out[table] = sorted(cur.fetchall(), key=repr)
    conn.close()
    return out


def _rows_affected(target, model: str) -> int:
    results = json.loads((target / "run_results.json").read_text())
    return next(r["adapter_response"]["rows_affected"] for r in results["results"]
                if r["unique_id"] == f"model.lightbox.{model}")


@pytest.mark.slow
def test_incremental_build_equals_full_refresh(db_url, lightbox_home, tmp_path):
    from lightbox.landing.ingest import ingest_folder
    from lightbox.seed import generate

    landing = tmp_path / "landing"
    # its own target and log folders: dbt run elsewhere on the project does not mix in
    own = ("--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"))
    generate(landing, scale="small", seed=7, sites_dir=tmp_path / "sites")
    ingest_folder(landing, url=db_url)
    marts.dbt("build", *NO_LOOKBACK, *own, url=db_url)

    day = marts.deliver_a_day(landing, db_url, sales=200, photos=300, inspections=60, partner_lines=10)
    ingest_folder(landing, url=db_url)
    marts.dbt("build", *NO_LOOKBACK, *own, url=db_url)  # every model and every test
    # the incremental models read the day, not everything
    assert _rows_affected(tmp_path / "target", "stg_marketplace__photos") == day["photos"]
    assert _rows_affected(tmp_path / "target", "stg_marketplace__sales") == day["sales"]
    assert _rows_affected(tmp_path / "target", "stg_marketplace__inspections") == day["inspections"]
    assert _rows_affected(tmp_path / "target", "stg_marketplace__settlement_reports") == day["partner_lines"]
    incremental = _tables(db_url)

    marts.dbt("build", "--full-refresh", *own, url=db_url)
    full = _tables(db_url)
    assert incremental.keys() == full.keys()
    for table in full:
        assert incremental[table] == full[table], table

    # the late rows are in: old photos deleted or recategorised that day, late sales
    conn = db.connect(db_url)
    with conn.cursor() as cur:
        cur.execute("select count(*) from intermediate.int_photos_funnel_staged where is_deleted")
        assert cur.fetchone()[0] >= 6
        cur.execute("select count(*) from marts.licensing_funnel where category = 'day-recategorised'")
        assert cur.fetchone()[0] >= 1
        cur.execute("select count(*) from marts.sales_facts where sale_id like 'day-%%'")
        assert cur.fetchone()[0] == day["sales"]
    conn.close()

"""`ingest_landing` end to end with dag.test(): a second run loads nothing."""


def _count(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()[0]


def test_ingest_landing_twice_loads_nothing_the_second_time(run_dag, conn, landing):
    (landing / "users").mkdir()
    (landing / "users" / "u.csv").write_text(
        "user_id,username,country,joined_at,auto_licensing,default_exclusive,updated_at,deleted_at\n"
        "u1,ana,PT,2025-01-01T00:00:00Z,true,false,2025-01-01T00:00:00Z,\n"
        "u2,bo,ZZ,2025-01-01T00:00:00Z,true,false,2025-01-01T00:00:00Z,\n"
    )
    (landing / "fx_rates").mkdir()
    (landing / "fx_rates" / "r.csv").write_text("rate_date,currency,usd_per_unit\n2025-01-01,EUR,1.1\n")

    dag_run, states = run_dag("ingest_landing")
    assert str(dag_run.state) in ("success", "DagRunState.SUCCESS"), states
    assert states["publish_raw"] == "success"
    assert _count(conn, "select count(*) from raw.users") == 1
    assert _count(conn, "select count(*) from raw.quarantine") == 1
    loaded = _count(conn, "select count(*) from raw.users_history") + _count(conn, "select count(*) from raw.fx_rates_history")

    dag_run, states = run_dag("ingest_landing")
    assert states["publish_raw"] == "skipped"  # nothing new: no Asset event downstream
    again = _count(conn, "select count(*) from raw.users_history") + _count(conn, "select count(*) from raw.fx_rates_history")
    assert again == loaded
    assert _count(conn, "select count(*) from raw.landing_files") == 2


def test_tasks_take_the_warehouse_from_the_airflow_connection(run_dag, conn, landing, scratch_db_url, monkeypatch):
    """`lightbox_warehouse` is the one source of a task's warehouse: with LIGHTBOX_DATABASE_URL
    naming another database, the rows still land where the Airflow connection points."""
    (landing / "users").mkdir()
    (landing / "users" / "u.csv").write_text(
        "user_id,username,country,joined_at,auto_licensing,default_exclusive,updated_at,deleted_at\n"
        "u1,ana,PT,2025-01-01T00:00:00Z,true,false,2025-01-01T00:00:00Z,\n"
    )
    monkeypatch.setenv("LIGHTBOX_DATABASE_URL", scratch_db_url)

    dag_run, states = run_dag("ingest_landing")
    assert states["publish_raw"] == "success", states
    assert _count(conn, "select count(*) from raw.users") == 1
    from lightbox import db

    other = db.connect(scratch_db_url)
    try:
        assert _count(other, "select count(*) from raw.users") == 0
        assert _count(other, "select count(*) from raw.landing_files") == 0
    finally:
        other.close()

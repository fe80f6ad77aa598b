"""The landing loader against the real PostgreSQL: exactly once, nothing lost, later wins."""
from pathlib import Path

from lightbox.landing.ingest import ingest_folder

USERS_HEADER = "user_id,username,country,joined_at,auto_licensing,default_exclusive,updated_at,deleted_at\n"


def write(landing: Path, source: str, name: str, text: str | bytes) -> Path:
    folder = landing / source
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def rows(conn, sql, *params):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def test_files_load_once_and_every_row_is_loaded_or_quarantined(conn, landing, db_url):
    write(
        landing,
        "users",
        "2025-01.csv",
        USERS_HEADER
        + "u1,ana,PT,2025-01-01T10:00:00+00:00,false,false,2025-01-01T10:00:00+00:00,\n"
        + "u2,bo,XX,2025-01-01T10:00:00+00:00,false,false,2025-01-01T10:00:00+00:00,\n"  # bad country
        + 'u3,"cy,2025-01-01T10:00:00+00:00,false,false,2025-01-01T10:00:00+00:00,\n'  # broken quoting
        + "u4,di,DE,2025-01-01 10:00:00,false,false,2025-01-01T10:00:00+00:00,\n",
    )
    first = ingest_folder(landing)
    [f] = first.new_files
    assert (f.rows_total, f.rows_loaded, f.rows_quarantined) == (
        f.rows_loaded + f.rows_quarantined,
        1,
        f.rows_total - 1,
    )
    reasons = [r[0] for r in rows(conn, "select reason from raw.quarantine order by line")]
    assert any("ISO 3166-1" in r for r in reasons)
    assert any("unreadable CSV" in r or "fields" in r for r in reasons)
    # The same bytes under another name, and a rerun, load nothing.
    write(landing, "users", "copy-of-2025-01.csv", (landing / "users" / "2025-01.csv").read_bytes())
    second = ingest_folder(landing)
    assert second.new_files == []
    assert rows(conn, "select count(*) from raw.users_history")[0][0] == 1


def test_later_updated_at_wins_and_history_keeps_every_version(conn, landing, db_url):
    write(landing, "users", "a.csv", USERS_HEADER + "u1,ana,PT,2025-01-01T00:00:00Z,false,false,2025-03-01T00:00:00Z,\n")
    ingest_folder(landing)
    # An older version arriving later does not overwrite; a newer one does.
    write(landing, "users", "b.csv", USERS_HEADER + "u1,ana-old,PT,2025-01-01T00:00:00Z,false,false,2025-02-01T00:00:00Z,\n")
    ingest_folder(landing)
    assert rows(conn, "select username from raw.users")[0][0] == "ana"
    write(landing, "users", "c.csv", USERS_HEADER + "u1,ana,PT,2025-01-01T00:00:00Z,true,false,2025-04-01T00:00:00Z,\n")
    ingest_folder(landing)
    assert rows(conn, "select auto_licensing from raw.users")[0][0] is True
    assert rows(conn, "select count(*) from raw.users_history where user_id = 'u1'")[0][0] == 3


def test_duplicate_keys_in_one_file_later_line_wins(conn, landing, db_url):
    write(
        landing,
        "fx_rates",
        "rates.csv",
        "rate_date,currency,usd_per_unit\n2025-01-01,EUR,1.10\n2025-01-01,EUR,1.12\n",
    )
    ingest_folder(landing)
    assert rows(conn, "select usd_per_unit::text from raw.fx_rates")[0][0] == "1.12"
    assert rows(conn, "select count(*) from raw.fx_rates_history")[0][0] == 2


def test_bad_files_never_stop_the_load(conn, landing, db_url):
    write(landing, "fx_rates", "empty.csv", b"")
    write(landing, "fx_rates", "no-header.csv", "2025-01-01,EUR,1.10\n2025-01-02,EUR,1.11\n")
    write(landing, "fx_rates", "latin1.csv", b"rate_date,currency,usd_per_unit\n2025-01-03,EUR,1.1\xe9\n2025-01-04,EUR,1.2\n")
    write(landing, "fx_rates", "extra.csv", "rate_date,usd_per_unit,currency,source\n2025-01-05,1.3,EUR,ecb\n")
    result = ingest_folder(landing)
    by_name = {Path(f.path).name: f for f in result.files}
    assert by_name["empty.csv"].status == "empty"
    assert (by_name["no-header.csv"].rows_loaded, by_name["no-header.csv"].rows_quarantined) == (0, 2)
    assert (by_name["latin1.csv"].rows_loaded, by_name["latin1.csv"].rows_quarantined) == (1, 1)
    assert rows(conn, "select extra->>'source' from raw.fx_rates where rate_date = '2025-01-05'")[0][0] == "ecb"
    reasons = dict(rows(conn, "select file, reason from raw.quarantine where file like '%%latin1%%'"))
    assert "invalid UTF-8" in reasons["fx_rates/latin1.csv"]
    per_file = rows(conn, "select rows_total, rows_loaded + rows_quarantined from raw.landing_files")
    assert all(total == accounted for total, accounted in per_file)


def test_parallel_ranges_load_exactly_what_one_piece_loads(conn, landing, db_url, monkeypatch):
    """A big file is validated in byte ranges by several processes: quoted newlines, broken
    rows and line numbers come out as in the one-piece path."""
    import lightbox.landing.ingest as ingest

    lines = [USERS_HEADER.rstrip("\n")]
    for i in range(3000):
        name = f'"multi\nline {i}"' if i % 97 == 0 else f"user{i}"
        country = "XX" if i % 101 == 0 else "PT"
        lines.append(f"u{i},{name},{country},2025-01-01T00:00:00Z,false,false,2025-01-01T00:00:00Z,")
    text = "\n".join(lines) + "\n"
    write(landing, "users", "big.csv", text)

    def load(workers):
        with conn.cursor() as cur:
            cur.execute("truncate raw.landing_files, raw.users_history, raw.users, raw.quarantine")
        return ingest.ingest_folder(landing, workers=workers).files[0]

    one = load(1)
    expected = rows(conn, "select user_id, username, _line from raw.users_history order by _line")
    bad = rows(conn, "select line, reason from raw.quarantine order by line")
    monkeypatch.setattr(ingest, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(ingest, "PARALLEL_RANGE_BYTES", 4096)
    many = load(2)
    assert (many.rows_total, many.rows_loaded, many.rows_quarantined) == (one.rows_total, one.rows_loaded, one.rows_quarantined)
    assert rows(conn, "select user_id, username, _line from raw.users_history order by _line") == expected
    assert rows(conn, "select line, reason from raw.quarantine order by line") == bad
    assert one.rows_quarantined == len([i for i in range(3000) if i % 101 == 0])

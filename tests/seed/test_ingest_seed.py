"""The seed against the real landing loader: every planted contract break lands in
raw.quarantine at the file and line the manifest names, and nothing else does."""
from __future__ import annotations

from lightbox.landing import ingest


def test_ingest_quarantines_exactly_the_planted_rows(seeded, db_url, conn):
    result = ingest.ingest_folder(seeded["landing"], url=db_url)
    for f in result.files:
        assert f.rows_total == f.rows_loaded + f.rows_quarantined, f
    with conn.cursor() as cur:
        cur.execute("select file, line from raw.quarantine")
        got = {(file, line) for file, line in cur.fetchall()}
    manifest = seeded["manifest"]
    want = {(q["file"], q["line"]) for q in manifest["expected"]["quarantine"]}
    assert {(f.rsplit("/", 2)[-2] + "/" + f.rsplit("/", 1)[-1], line) for f, line in got} == want
    with conn.cursor() as cur:
        dup = manifest["expected"]["landing"]["duplicate_keys"][0]
        cur.execute("select title from raw.stock_listings where site = %s and listing_id = %s", dup["key"])
        assert cur.fetchone()[0] == dup["expect"]["title"]
        cur.execute("select extra->>'notes' from raw.licenses where extra ? 'notes'")
        assert len(cur.fetchall()) == 2
        cur.execute("select count(*) from raw.settlement_reports where extra->>'reverses_line_id' = 'PX-0002'")
        assert cur.fetchone()[0] == 1
        cur.execute("select count(*) from raw.settlement_reports_history where line_id = 'CT-1002'")
        assert cur.fetchone()[0] == 2  # delivered twice, one current line
        cur.execute("select auto_licensing from raw.users where user_id = %s",
                    (manifest["expected"]["users"]["opt_in_then_out"]["user_id"],))
        assert cur.fetchone()[0] is False
        cur.execute("select count(*) from raw.users_history where user_id = %s",
                    (manifest["expected"]["users"]["opt_in_then_out"]["user_id"],))
        assert cur.fetchone()[0] == 3
    again = ingest.ingest_folder(seeded["landing"], url=db_url)
    assert again.rows_loaded == 0

"""The landing loader against a careless or hostile supplier (issue 15): every file ends in
exactly one recorded state, no file blocks another, paths cannot escape, absurd numbers and
unknown regions are quarantined. Real PostgreSQL throughout."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from test_ingest import USERS_HEADER, rows, write  # tests/landing/test_ingest.py

from lightbox.landing import validate
from lightbox.landing.contract import SOURCES
from lightbox.landing.ingest import ingest_folder

T = "2026-01-01T10:00:00+00:00"


def csv_text(source: str, *records: dict, header: list[str] | None = None) -> str:
    columns = header or list(SOURCES[source].column_names)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(columns)
    for record in records:
        w.writerow([record.get(c, "") for c in columns])
    return out.getvalue()


def photo(photo_id: str, image_path: str, **extra) -> dict:
    return {"photo_id": photo_id, "owner_id": "u1", "uploaded_at": T, "submitted_for_licensing": "false",
            "removed_from_licensing": "false", "image_path": image_path, "updated_at": T, **extra}


def sale(sale_id: str, amount: str) -> dict:
    return {"sale_id": sale_id, "photo_id": "p1", "sold_at": T, "amount": amount, "currency": "USD"}


def user(user_id: str, joined_at: str = T) -> str:
    return f"{user_id},name_{user_id},PT,{joined_at},false,false,{T},\n"


def quarantined(conn) -> dict:
    return {(src, line): reason for src, line, reason in rows(conn, "select source, line, reason from raw.quarantine")}


def file_states(conn) -> dict:
    return {path: (status, error) for path, status, error in rows(conn, "select path, status, error from raw.landing_files")}


# ------------------------------------------------------------------ media paths


@pytest.mark.parametrize("image_path", [
    "file:///etc/passwd",
    "/etc/passwd",
    "../outside.jpg",
    "images/../../outside.jpg",
    "ftp://example.com/a.jpg",
    "data:image/png;base64,AAAA",
    "s3://someone-elses-bucket/a.jpg",
    "file://evil.example.com/etc/passwd",
])
def test_image_path_outside_the_contract_is_quarantined_at_ingest(conn, landing, lightbox_home, image_path):
    write(landing, "photos", "p.csv", csv_text("photos", photo("p1", image_path), photo("p2", "images/ok.jpg")))
    ingest_folder(landing)
    assert [r[0] for r in rows(conn, "select photo_id from raw.photos")] == ["p2"]
    [(reason,)] = rows(conn, "select reason from raw.quarantine")
    assert reason.startswith("photos.image_path")


def test_media_uris_inside_the_media_roots_load(conn, landing, lightbox_home, monkeypatch):
    monkeypatch.setenv("LIGHTBOX_MEDIA_ROOTS", f"{landing},s3://media-bucket/photos")
    write(landing, "photos", "p.csv", csv_text(
        "photos", photo("p1", f"file://{landing}/images/a.jpg"), photo("p2", "s3://media-bucket/photos/b.jpg"),
        photo("p3", "https://cdn.example.com/c.jpg"), photo("p4", "s3://media-bucket/other/d.jpg")))
    ingest_folder(landing)
    assert [r[0] for r in rows(conn, "select photo_id from raw.photos order by 1")] == ["p1", "p2", "p3"]


# ------------------------------------------------------------------ poison files


def test_latin1_header_quarantines_its_file_and_the_next_file_loads(conn, landing):
    write(landing, "users", "a.csv", USERS_HEADER.rstrip("\n").encode() + b",caf\xe9\n" + user("u1").encode())
    write(landing, "users", "b.csv", USERS_HEADER + user("u2"))
    result = ingest_folder(landing)
    states = file_states(conn)
    assert states["users/a.csv"][0] == "quarantined" and "UTF-8" in states["users/a.csv"][1]
    assert states["users/b.csv"] == ("loaded", None)
    assert [r[0] for r in rows(conn, "select user_id from raw.users")] == ["u2"]
    assert not result.failed


def test_offset_postgresql_refuses_is_quarantined_and_later_files_load(conn, landing):
    write(landing, "users", "a.csv", USERS_HEADER + user("u1", "2026-01-01T10:00:00+20:00") + user("u3"))
    write(landing, "users", "b.csv", USERS_HEADER + user("u2"))
    ingest_folder(landing)
    assert sorted(r[0] for r in rows(conn, "select user_id from raw.users")) == ["u2", "u3"]
    [reason] = quarantined(conn).values()
    assert "offset" in reason


def test_years_readers_cannot_hold_are_quarantined(conn, landing):
    write(landing, "users", "a.csv", USERS_HEADER + user("u1", "0001-01-01T00:00:00+01:00")
          + user("u2", "9999-12-31T23:59:00-15:00") + user("u3"))
    ingest_folder(landing)
    assert [r[0] for r in rows(conn, "select user_id from raw.users")] == ["u3"]
    with conn.cursor() as cur:  # and everything loaded reads back into Python
        cur.execute("select joined_at from raw.users_history")
        cur.fetchall()


def test_a_file_postgresql_refuses_is_failed_does_not_block_and_is_retried(conn, landing, monkeypatch):
    """The safety net behind validation: a row that passes Python but that PostgreSQL
    refuses fails its file, with the reason; the source's other files load; a rerun retries."""
    strict = validate._MAX_OFFSET
    monkeypatch.setattr(validate, "_MAX_OFFSET", timedelta(hours=24))  # validation made too lax
    write(landing, "users", "a.csv", USERS_HEADER + user("u1", "2026-01-01T10:00:00+20:00"))
    write(landing, "users", "b.csv", USERS_HEADER + user("u2"))
    result = ingest_folder(landing)
    states = file_states(conn)
    assert states["users/a.csv"][0] == "failed" and "displacement" in states["users/a.csv"][1]
    assert states["users/b.csv"][0] == "loaded"
    assert [f.path for f in result.failed] == ["users/a.csv"]
    monkeypatch.setattr(validate, "_MAX_OFFSET", strict)
    ingest_folder(landing)  # the rerun retries the failed file: now its row is quarantined
    assert file_states(conn)["users/a.csv"] == ("loaded", None)
    assert len(quarantined(conn)) == 1
    assert rows(conn, "select count(*) from raw.landing_files")[0][0] == 2


# ------------------------------------------------------------------ numbers


@pytest.mark.parametrize("amount", ["1e400", "1e1001", "-5", "100000000000000", "1.00001", "1e-5"])
def test_amounts_out_of_the_contract_range_are_quarantined(conn, landing, amount):
    write(landing, "sales", "s.csv", csv_text("sales", sale("s1", amount), sale("s2", "19.99")))
    ingest_folder(landing)
    assert [r[0] for r in rows(conn, "select sale_id from raw.sales")] == ["s2"]
    [reason] = quarantined(conn).values()
    assert reason.startswith("sales.amount")


def test_a_partner_line_beyond_numeric_18_4_is_quarantined(conn, landing):
    line = {"partner": "pixsy", "report_id": "R1", "line_id": "L1", "gross_amount": "1e30", "currency": "USD",
            "partner_fee": "0", "collected_at": T}
    reversal = {**line, "line_id": "L2", "gross_amount": "-30.00", "partner_fee": "-9.00"}
    write(landing, "settlement_reports", "r.csv", csv_text("settlement_reports", line, reversal))
    ingest_folder(landing)
    assert rows(conn, "select line_id from raw.settlement_reports") == [("L2",)]  # a reversal is signed
    [reason] = quarantined(conn).values()
    assert reason.startswith("settlement_reports.gross_amount") and "out of range" in reason


def test_the_raw_gate_survives_what_used_to_crash_it(conn, landing, lightbox_home):
    from datetime import datetime, timezone

    from lightbox.quality.gates import run_gate

    write(landing, "sales", "s.csv", csv_text("sales", sale("s1", "1e400"), sale("s2", "1e1001"), sale("s3", "5")))
    ingest_folder(landing)
    outcome = run_gate("raw", "run1", datetime.now(timezone.utc), error=RuntimeError)
    assert outcome  # ran to the end: no NumericValueOutOfRange


# ------------------------------------------------------------------ smaller defects


def test_same_bytes_in_the_wrong_folder_then_the_right_one_load(conn, landing):
    text = USERS_HEADER + user("u1")
    write(landing, "sales", "oops.csv", text)
    ingest_folder(landing)
    assert file_states(conn)["sales/oops.csv"][0] == "quarantined"
    write(landing, "users", "right.csv", text)
    ingest_folder(landing)
    assert file_states(conn)["users/right.csv"] == ("loaded", None)
    assert [r[0] for r in rows(conn, "select user_id from raw.users")] == ["u1"]


def test_bom_before_a_quoted_header_loads(conn, landing):
    header = ",".join(f'"{c}"' for c in USERS_HEADER.strip().split(",")) + "\n"
    write(landing, "users", "bom.csv", b"\xef\xbb\xbf" + (header + user("u1")).encode())
    ingest_folder(landing)
    assert [r[0] for r in rows(conn, "select user_id from raw.users")] == ["u1"]
    assert quarantined(conn) == {}


def test_an_unterminated_quote_rejects_one_line_and_the_rest_loads(conn, landing):
    write(landing, "users", "q.csv", USERS_HEADER + user("u1") + 'u2,"broken,PT,' + T + ",false,false," + T + ",\n"
          + user("u3") + user("u4"))
    ingest_folder(landing)
    assert sorted(r[0] for r in rows(conn, "select user_id from raw.users")) == ["u1", "u3", "u4"]
    [(line, reason, payload)] = rows(conn, "select line, reason, payload from raw.quarantine")
    assert line == 3 and "unterminated quote" in reason and payload.startswith('u2,"broken')
    [(total, loaded, bad)] = rows(conn, "select rows_total, rows_loaded, rows_quarantined from raw.landing_files")
    assert (total, loaded, bad) == (4, 3, 1)


def test_files_in_unknown_folders_are_recorded_and_logged(conn, landing, caplog):
    write(landing, "userz", "u.csv", USERS_HEADER + user("u1"))
    (landing / "stray.csv").write_text(USERS_HEADER + user("u2"))
    write(landing, "users", "ok.csv", USERS_HEADER + user("u3"))
    with caplog.at_level("WARNING"):
        result = ingest_folder(landing, sources=["users"])
    states = file_states(conn)
    assert states["userz/u.csv"][0] == "ignored" and "not a source" in states["userz/u.csv"][1]
    assert states["stray.csv"][0] == "ignored"
    assert sorted(result.summary()["files_ignored"]) == ["stray.csv", "userz/u.csv"]
    assert "userz/u.csv" in caplog.text
    ingest_folder(landing)  # recorded once
    assert rows(conn, "select count(*) from raw.landing_files where status = 'ignored'")[0][0] == 2


def test_unknown_region_codes_are_quarantined(conn, landing):
    event = {"event_id": "e1", "user_id": "u1", "region": "mars", "action": "grant", "at": T}
    ok = {**event, "event_id": "e2", "region": " EU "}
    write(landing, "region_consents", "c.csv", csv_text("region_consents", event, ok))
    ingest_folder(landing)
    assert rows(conn, "select event_id, region from raw.region_consents") == [("e2", "eu")]
    [reason] = quarantined(conn).values()
    assert "mars" in reason and "LIGHTBOX_REGIONS" in reason


def test_photo_url_passes_no_scheme_through_unchecked(landing, lightbox_home, tmp_path):
    from lightbox.landing.media import MediaError, photo_url

    (landing / "images").mkdir()
    (landing / "images" / "a.jpg").write_bytes(b"x")
    assert photo_url("images/a.jpg") == f"file://{(landing / 'images' / 'a.jpg').resolve()}"
    assert photo_url("https://cdn.example.com/a.jpg") == "https://cdn.example.com/a.jpg"
    (landing / "images" / "out.jpg").symlink_to(tmp_path / "elsewhere.jpg")
    for bad in ("file:///etc/passwd", "gopher://x/y", "javascript:alert(1)", "../a.jpg", "images/out.jpg",
                f"file://{landing}/../x.jpg"):
        with pytest.raises(MediaError):
            photo_url(bad)

"""Replication against hostile rows (issue 15): no local file escapes into a mirror, future
consent waits for its time, a run that died is marked failed by the next one."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest
from replication_helpers import at, jpeg_bytes
from test_sync import held, sync

from lightbox.config import Region
from lightbox.replication.whereis import where_is


@pytest.fixture
def regions(tmp_path):
    return {code: Region(code, f"file://{tmp_path}/regions/{code}", True) for code in ("eu", "cn")}


def _set_path(conn, photo_id: str, image_path: str, sha256: str | None = None) -> None:
    with conn.cursor() as cur:
        cur.execute("update raw.photos set image_path = %s, sha256 = %s where photo_id = %s",
                    (image_path, sha256, photo_id))


@pytest.mark.parametrize("make_path", [
    lambda landing, tmp: "file:///etc/passwd",
    lambda landing, tmp: f"file://{tmp}/secret.png",
    lambda landing, tmp: "../secret.png",
    lambda landing, tmp: "images/escape.jpg",  # a symlink inside the landing folder to a file outside
    lambda landing, tmp: "images/passwd.jpg",  # not an image, no sha256 to compare with
])
def test_nothing_outside_the_media_roots_or_not_an_image_reaches_a_mirror(
        conn, raw, landing, regions, tmp_path, lightbox_home, make_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(jpeg_bytes(99))  # an image, but outside every media root
    (landing / "images").mkdir(exist_ok=True)
    os.symlink(secret, landing / "images" / "escape.jpg")
    (landing / "images" / "passwd.jpg").write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    raw.user("u1")
    raw.photo("p1", "u1", seed=1)
    raw.photo("p2", "u1", seed=2)
    _set_path(conn, "p2", make_path(landing, tmp_path))
    raw.consent("e1", "u1", "eu", "grant", at(0))
    raw.consent("e2", "u1", "cn", "grant", at(0))
    for code in ("eu", "cn"):
        result = sync(regions[code], conn, landing, "run1", 1)
        assert set(held(regions[code])) == {"p1"}
        assert [e["photo_id"] for e in result.errors] == ["p2"]
    answer = where_is(conn, "u1")
    p2 = next(p for p in answer["photos"] if p["photo_id"] == "p2")
    assert p2["regions"] == []


def test_bytes_that_differ_from_the_rows_sha256_are_not_copied(conn, raw, landing, regions):
    raw.user("u1")
    raw.photo("p1", "u1", seed=1)
    (landing / "images" / "p1.jpg").write_bytes(jpeg_bytes(2))  # a valid image, but another one
    raw.consent("e1", "u1", "eu", "grant", at(0))
    result = sync(regions["eu"], conn, landing, "run1", 1)
    assert held(regions["eu"]) == {} and "sha256" in result.errors[0]["error"]


def test_consent_events_after_the_sync_time_wait_for_their_time(conn, raw, landing, regions):
    eu = regions["eu"]
    raw.user("u1")
    raw.photo("p1", "u1", seed=1)
    raw.user("u2")
    raw.photo("p2", "u2", seed=2)
    raw.consent("e1", "u1", "eu", "grant", at(-60))
    raw.consent("e2", "u1", "eu", "grant", datetime(2099, 1, 1, tzinfo=timezone.utc))  # future-dated
    raw.consent("e3", "u1", "eu", "revoke", at(60 * 24 * 5))
    raw.consent("e4", "u2", "eu", "grant", datetime(2099, 1, 1, tzinfo=timezone.utc))
    sync(eu, conn, landing, "run1", 0)
    assert set(held(eu)) == {"p1"}  # e1 holds; the 2099 grants wait
    sync(eu, conn, landing, "run2", 60 * 24 * 6)
    assert held(eu) == {}  # the revoke's time came; the 2099 grant has not
    with conn.cursor() as cur:
        cur.execute("select photo_id, reason from replication.audit_log where action = 'delete'")
        assert cur.fetchall() == [("p1", "consent_revoked")]


def test_a_run_that_died_is_marked_failed_by_the_next_run(conn, raw, landing, regions):
    eu = regions["eu"]
    with conn.cursor() as cur:  # a run killed with -9: its row says running, forever
        cur.execute("insert into replication.runs (run_id, region, at, started_at) values ('dead', 'eu', %s, %s)",
                    (at(0), at(0)))
        cur.execute("insert into replication.runs (run_id, region, at, started_at) values ('other', 'cn', %s, %s)",
                    (at(0), at(0) + timedelta(minutes=1)))
    sync(eu, conn, landing, "run2", 5)
    with conn.cursor() as cur:
        cur.execute("select run_id, status, errors::text from replication.runs order by run_id")
        runs = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
    assert runs["dead"][0] == "failed" and "died" in runs["dead"][1]
    assert runs["run2"][0] == "success"
    assert runs["other"][0] == "running"  # another region's run is that region's business

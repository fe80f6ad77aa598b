"""One region's sync against the real database and file:// stores."""
from __future__ import annotations

import hashlib
import json

import pytest
from replication_helpers import at

from lightbox.config import Region
from lightbox.replication.store import RegionStore, RegionUnreachable, object_key, photo_id_of
from lightbox.replication.sync import sync_region


@pytest.fixture
def regions(tmp_path):
    return {
        "eu": Region("eu", f"file://{tmp_path}/regions/eu", True),
        "cn": Region("cn", f"file://{tmp_path}/regions/cn", False),
    }


def held(region) -> dict[str, str]:
    """photo_id -> sha256 of what the region's store really holds."""
    store = RegionStore(region.uri)
    return {photo_id_of(k): hashlib.sha256(store.get(k)).hexdigest() for k in store.list()}


def inventory(conn, region) -> dict[str, str]:
    with conn.cursor() as cur:
        cur.execute("select photo_id, sha256 from replication.inventory where region = %s", (region.code,))
        return dict(cur.fetchall())


def audit(conn, *, run_id=None):
    with conn.cursor() as cur:
        cur.execute(
            "select run_id, region, photo_id, action, reason, direction from replication.audit_log "
            "where %s is null or run_id = %s order by audit_id",
            (run_id, run_id),
        )
        return cur.fetchall()


def sync(region, conn, landing, run, minute, **kwargs):
    return sync_region(region, run_id=run, at=at(minute), conn=conn, landing=landing, workers=1, **kwargs)


def test_object_keys_round_trip():
    for pid in ["p1", "a.b/c d", "ü%2E.", "x" * 50]:
        key = object_key(pid, "ab" * 32, "images/x.JPG")
        assert key.endswith(".jpg") and photo_id_of(key) == pid


def test_consented_photos_replicated_revoked_and_deleted_removed_in_one_run(conn, raw, landing, regions):
    eu, cn = regions["eu"], regions["cn"]
    raw.user("u1")
    raw.user("u2")
    data = {pid: raw.photo(pid, owner, seed=i) for i, (pid, owner) in enumerate(
        [("p1", "u1"), ("p2", "u1"), ("p3", "u1"), ("p4", "u2"), ("p5", "u2")])}
    raw.photo("px", "u1", seed=99, exclusive=True)
    raw.consent("e1", "u1", "eu", "grant", at(0))
    raw.consent("e2", "u1", "CN", "grant", at(0))  # case of the region code does not matter
    raw.consent("e3", "u2", "eu", "grant", at(0))
    raw.consent("e4", "u2", "eu", "revoke", at(1), photo_id="p5")

    r1 = sync(eu, conn, landing, "run1", 10)
    r2 = sync(cn, conn, landing, "run1", 10)
    assert r1.errors == [] and r2.errors == []
    sha = {pid: hashlib.sha256(d).hexdigest() for pid, d in data.items()}
    sha["px"] = hashlib.sha256((landing / "images/px.jpg").read_bytes()).hexdigest()
    assert held(eu) == {p: sha[p] for p in ["p1", "p2", "p3", "p4", "px"]} == inventory(conn, eu)
    # cn is not enforceable: the exclusive photo needs a photo-level grant
    assert held(cn) == {p: sha[p] for p in ["p1", "p2", "p3"]} == inventory(conn, cn)

    # revoke one photo, delete another, delete u2's account: all gone in the next run
    raw.consent("e5", "u1", "eu", "revoke", at(20), photo_id="p1")
    raw.delete_photo("p2")
    raw.delete_user("u2")
    raw.consent("e6", "u1", "cn", "grant", at(20), photo_id="px")
    sync(eu, conn, landing, "run2", 30)
    sync(cn, conn, landing, "run2", 30)
    assert set(held(eu)) == set(inventory(conn, eu)) == {"p3", "px"}
    assert set(held(cn)) == set(inventory(conn, cn)) == {"p1", "p3", "px"}
    reasons = {(r[1], r[2]): r[4] for r in audit(conn, run_id="run2") if r[5] == "out"}
    assert reasons == {
        ("eu", "p1"): "consent_revoked",
        ("eu", "p2"): "photo_deleted",
        ("cn", "p2"): "photo_deleted",
        ("eu", "p4"): "account_deleted",
    }

    # a second run changes nothing
    before = (audit(conn), inventory(conn, eu), inventory(conn, cn))
    assert sync(eu, conn, landing, "run3", 40).summary()["copied"] == 0
    sync(cn, conn, landing, "run3", 40)
    assert (audit(conn), inventory(conn, eu), inventory(conn, cn)) == before


def test_drift_is_repaired_both_ways(conn, raw, landing, regions):
    eu = regions["eu"]
    raw.user("u1")
    for i in range(4):
        raw.photo(f"p{i}", "u1", seed=i)
    raw.consent("e1", "u1", "eu", "grant", at(0))
    sync(eu, conn, landing, "run1", 1)
    store = RegionStore(eu.uri)
    keys = {photo_id_of(k): k for k in store.list()}
    store.delete(keys["p0"])  # object lost behind the inventory's back
    store.put(keys["p1"], b"corrupt")  # truncated / replaced
    with conn.cursor() as cur:  # inventory lost a row: the object is unknown
        cur.execute("delete from replication.inventory where region = 'eu' and photo_id = 'p2'")
    stray = object_key("ghost", "00" * 32, "x.jpg")
    store.put(stray, b"not consented")  # an object nobody consented to
    result = sync(eu, conn, landing, "run2", 2)
    assert result.repaired == 4 and result.copied == 0
    assert set(held(eu)) == {"p0", "p1", "p2", "p3"}
    assert held(eu) == inventory(conn, eu)
    rows = [r for r in audit(conn, run_id="run2") if r[3] == "repair"]
    assert {(r[2], r[4], r[5]) for r in rows} == {
        ("p0", "drift_repaired", "in"), ("p1", "drift_repaired", "in"),
        ("p2", "drift_repaired", "in"), ("ghost", "drift_repaired", "out"),
    }


def test_deep_verify_catches_same_size_corruption(conn, raw, landing, regions):
    eu = regions["eu"]
    raw.user("u1")
    data = raw.photo("p1", "u1", seed=1)
    raw.consent("e1", "u1", "eu", "grant", at(0))
    sync(eu, conn, landing, "run1", 1)
    store = RegionStore(eu.uri)
    (key,) = store.list()
    store.put(key, bytes(len(data)))
    assert sync(eu, conn, landing, "run2", 2).repaired == 0  # a listing cannot see it
    assert sync(eu, conn, landing, "run3", 3, deep_verify=True).repaired == 1
    assert store.get(key) == data


def test_new_version_of_a_photo_replaces_the_old_object(conn, raw, landing, regions):
    eu = regions["eu"]
    raw.user("u1")
    raw.photo("p1", "u1", seed=1)
    raw.consent("e1", "u1", "eu", "grant", at(0))
    sync(eu, conn, landing, "run1", 1)
    new = raw.photo("p1", "u1", seed=2)
    result = sync(eu, conn, landing, "run2", 2)
    assert result.copied == 1
    (key,) = RegionStore(eu.uri).list()
    assert RegionStore(eu.uri).get(key) == new
    with conn.cursor() as cur:
        cur.execute("select held_since, replicated_at from replication.inventory")
        assert cur.fetchone() == (at(1), at(2))


def test_unreadable_or_mismatching_source_is_recorded_not_copied(conn, raw, landing, regions):
    eu = regions["eu"]
    raw.user("u1")
    raw.photo("p1", "u1", seed=1)
    raw.photo("p2", "u1", seed=2)
    raw.photo("p3", "u1", seed=3)
    (landing / "images/p2.jpg").unlink()
    (landing / "images/p3.jpg").write_bytes(b"tampered")
    raw.photo("p4", "u1", seed=4, with_sha=False)
    (landing.parent / "secret.jpg").write_bytes(b"outside the landing folder")
    with conn.cursor() as cur:
        cur.execute("update raw.photos set image_path = '../secret.jpg' where photo_id = 'p4'")
    raw.consent("e1", "u1", "eu", "grant", at(0))
    result = sync(eu, conn, landing, "run1", 1)
    assert set(held(eu)) == {"p1"}
    assert sorted(e["photo_id"] for e in result.errors) == ["p2", "p3", "p4"]
    with conn.cursor() as cur:
        cur.execute("select status, errors from replication.runs where run_id = 'run1'")
        status, errors = cur.fetchone()
    assert status == "success" and len(errors) == 3


def test_unreachable_region_raises_and_changes_nothing(conn, raw, landing, tmp_path):
    (tmp_path / "blocked").write_text("a file where the region's folder should be")
    region = Region("eu", f"file://{tmp_path}/blocked/eu", True)
    raw.user("u1")
    raw.photo("p1", "u1", seed=1)
    raw.consent("e1", "u1", "eu", "grant", at(0))
    with pytest.raises(RegionUnreachable):
        sync(region, conn, landing, "run1", 1)
    assert audit(conn) == [] and inventory(conn, region) == {}
    with conn.cursor() as cur:
        cur.execute("select status from replication.runs")
        assert cur.fetchone() == ("failed",)


def test_where_is(conn, raw, landing, regions, capsys):
    from lightbox.cli import main

    eu, cn = regions["eu"], regions["cn"]
    raw.user("u1")
    raw.photo("p1", "u1", seed=1)
    raw.photo("p2", "u1", seed=2)
    raw.consent("e1", "u1", "eu", "grant", at(0))
    raw.consent("e2", "u1", "cn", "grant", at(0), photo_id="p2")
    sync(eu, conn, landing, "run1", 1)
    sync(cn, conn, landing, "run1", 1)
    raw.consent("e3", "u1", "eu", "revoke", at(5), photo_id="p1")
    sync(eu, conn, landing, "run2", 6)

    assert main(["where-is", "u1", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    photos = {p["photo_id"]: p for p in answer["photos"]}
    assert photos["p1"]["regions"] == []
    assert [(r["region"], r["reason"]) for r in photos["p1"]["removals"]] == [("eu", "consent_revoked")]
    assert photos["p1"]["removals"][0]["at"].startswith("2026-03-01 00:06")
    p2 = {r["region"]: r for r in photos["p2"]["regions"]}
    assert set(p2) == {"eu", "cn"}
    assert p2["cn"]["consent"]["event_id"] == "e2" and p2["cn"]["consent"]["scope"] == "photo"
    assert p2["eu"]["consent"]["event_id"] == "e1" and p2["eu"]["since"].startswith("2026-03-01 00:01")

    assert main(["where-is", "u1"]) == 0
    text = capsys.readouterr().out
    assert "photo p1" in text and "eu: removed 2026-03-01 00:06 UTC (consent_revoked" in text
    assert "cn: held since 2026-03-01 00:01 UTC on consent e2 (grant for photo" in text
    assert main(["where-is", "nobody"]) == 1


def test_same_bytes_under_a_new_path_without_sha_changes_nothing_visible(conn, raw, landing, regions):
    eu = regions["eu"]
    raw.user("u1")
    data = raw.photo("p1", "u1", seed=1, with_sha=False)
    raw.consent("e1", "u1", "eu", "grant", at(0))
    sync(eu, conn, landing, "run1", 1)
    (landing / "images/moved.jpg").write_bytes(data)
    with conn.cursor() as cur:
        cur.execute("update raw.photos set image_path = 'images/moved.jpg'")
    before = audit(conn)
    result = sync(eu, conn, landing, "run2", 2)
    assert (result.copied, result.repaired) == (0, 0) and audit(conn) == before
    with conn.cursor() as cur:
        cur.execute("select source_path, replicated_at from replication.inventory")
        assert cur.fetchone() == ("images/moved.jpg", at(1))
    assert sync(eu, conn, landing, "run3", 3).summary()["copied"] == 0


def test_a_non_local_fsspec_store(conn, raw, landing):
    """memory:// goes through fsspec's generic listing, as s3:// does in the cluster."""
    import uuid

    region = Region("eu", f"memory://lightbox-test-{uuid.uuid4().hex[:8]}/eu", True)
    store = RegionStore(region.uri)
    assert not store._local
    raw.user("u1")
    data = {pid: raw.photo(pid, "u1", seed=i) for i, pid in enumerate(["p1", "p2"])}
    raw.consent("e1", "u1", "eu", "grant", at(0))
    raw.consent("e2", "u1", "eu", "revoke", at(1), photo_id="p2")
    sync(region, conn, landing, "run1", 2)
    assert {photo_id_of(k): store.get(k) for k in store.list()} == {"p1": data["p1"]}
    raw.consent("e3", "u1", "eu", "revoke", at(3))
    sync(region, conn, landing, "run2", 4)
    assert store.list() == {}


def test_odd_photo_ids_round_trip_through_store_and_audit(conn, raw, landing, regions):
    eu = regions["eu"]
    raw.user("u\t1")
    odd = ["back\\slash", "tab\tand\nnewline", "dots.and%2E", "ünï cödé"]
    for i, pid in enumerate(odd):
        raw.photo(pid, "u\t1", seed=i)
    raw.consent("e1", "u\t1", "eu", "grant", at(0))
    sync(eu, conn, landing, "run1", 1)
    assert set(held(eu)) == set(odd)
    with conn.cursor() as cur:
        cur.execute("select photo_id, owner_id from replication.audit_log where action = 'copy'")
        assert set(cur.fetchall()) == {(pid, "u\t1") for pid in odd}

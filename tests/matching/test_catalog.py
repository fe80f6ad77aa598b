"""sync_catalog / load_index against the real PostgreSQL (raw.photos rows inserted directly)."""
from __future__ import annotations

from PIL import ImageOps

from lightbox.matching import hash_image
from lightbox.matching.catalog import load_index, sync_catalog

from .conftest import jpeg


def _photo(cur, photo_id, image_path, sha, exclusive=True, deleted=False):
    cur.execute(
        """
        insert into raw.photos (photo_id, owner_id, uploaded_at, submitted_for_licensing,
            removed_from_licensing, exclusive, image_path, sha256, updated_at, deleted_at,
            _file_id, _line, _arrived_at)
        values (%s, 'u1', '2026-01-01T00:00:00Z', false, false, %s, %s, %s,
            '2026-01-01T00:00:00Z', %s, 1, 1, now())
        on conflict (photo_id) do update set exclusive = excluded.exclusive,
            image_path = excluded.image_path, sha256 = excluded.sha256, deleted_at = excluded.deleted_at
        """,
        (photo_id, exclusive, image_path, sha, "2026-02-01T00:00:00Z" if deleted else None),
    )


def test_sync_hashes_eligible_photos_and_records_failures(conn, photos):
    store = {
        "images/a.jpg": jpeg(photos["Aqua"]),
        "images/w.jpg": jpeg(photos["Wood"]),
        "images/g.jpg": jpeg(photos["Garden"]),
        "images/broken.jpg": b"not an image at all",
        "images/empty.jpg": b"",
    }
    reads = []

    def read(path):
        reads.append(path)
        if path not in store:
            raise FileNotFoundError(path)
        return store[path]

    with conn.cursor() as cur:
        _photo(cur, "p-a", "images/a.jpg", "a" * 64)
        _photo(cur, "p-w", "images/w.jpg", "b" * 64)
        _photo(cur, "p-g", "images/g.jpg", "c" * 64, exclusive=False)  # not exclusive
        _photo(cur, "p-d", "images/a.jpg", "d" * 64, deleted=True)  # deleted
        _photo(cur, "p-bad", "images/broken.jpg", "e" * 64)
        _photo(cur, "p-empty", "images/empty.jpg", "f" * 64)
        _photo(cur, "p-missing", "images/nope.jpg", "0" * 64)

    counts = sync_catalog(conn, read_bytes=read)
    assert counts["eligible"] == 5 and counts["hashed"] == 2 and counts["failed"] == 3
    with conn.cursor() as cur:
        cur.execute("select photo_id, reason from matching.hash_failures order by photo_id")
        failures = dict(cur.fetchall())
    assert set(failures) == {"p-bad", "p-empty", "p-missing"}
    assert "zero-byte" in failures["p-empty"] and "FileNotFoundError" in failures["p-missing"]

    # second run: nothing to do
    reads.clear()
    again = sync_catalog(conn, read_bytes=read)
    assert again["hashed"] == 0 and again["unchanged"] == 2 and reads == []

    index = load_index(conn)
    assert len(index) == 2
    found = hash_image(jpeg(ImageOps.mirror(photos["Wood"]), 70))
    assert [m.photo_id for m in index.query(found)] == ["p-w"]

    # the photo's bytes change (new sha256), another stops being exclusive, one is deleted
    store["images/w2.jpg"] = jpeg(photos["Kleiber_by_Lukas_Baubkus"])
    with conn.cursor() as cur:
        _photo(cur, "p-w", "images/w2.jpg", "9" * 64)
        _photo(cur, "p-a", "images/a.jpg", "a" * 64, exclusive=False)
        _photo(cur, "p-bad", "images/broken.jpg", "e" * 64, deleted=True)
    third = sync_catalog(conn, read_bytes=read)
    assert third["hashed"] == 1 and third["removed"] == 1
    index = load_index(conn)
    assert len(index) == 1
    assert index.query(found) == []
    assert index.query(hash_image(jpeg(photos["Kleiber_by_Lukas_Baubkus"], 60)))[0].photo_id == "p-w"
    with conn.cursor() as cur:
        cur.execute("select photo_id from matching.hash_failures order by photo_id")
        assert [r[0] for r in cur.fetchall()] == ["p-empty", "p-missing"]


def test_load_index_includes_photos_on_hold(conn, photos):
    with conn.cursor() as cur:
        _photo(cur, "held", "images/h.jpg", "1" * 64)
        cur.execute(
            "insert into exclusivity.violations (photo_id, site, listing_url, distance, detected_at) "
            "values ('held', 'othersite', 'https://other.example/1', 2, now())"
        )
    sync_catalog(conn, read_bytes=lambda path: jpeg(photos["GreenMeadow"]))
    assert "held" in load_index(conn)

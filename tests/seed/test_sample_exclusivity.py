"""On the sample marketplace (what `lightbox demo` runs on), the matching catalogue covers
every photo the one exclusivity rule calls exclusive, those protected by their owner's
default included, and the demo summary says how many are protected by which."""
from __future__ import annotations

import pytest

from lightbox import demo
from lightbox.landing.ingest import ingest_folder
from lightbox.matching.catalog import sync_catalog
from lightbox.seed import generate


@pytest.mark.slow
def test_catalogue_covers_every_exclusive_photo_of_the_sample(conn, db_url, landing, lightbox_home, tmp_path):
    generate(landing, scale="small", sites_dir=tmp_path / "sites")
    ingest_folder(landing, url=db_url)
    counts = sync_catalog(conn)
    with conn.cursor() as cur:
        cur.execute("""select x.photo_id, x.exclusive_source from licensing.photo_exclusivity as x
                       join raw.photos as p using (photo_id) where x.is_exclusive and p.deleted_at is null""")
        exclusive = dict(cur.fetchall())
        cur.execute("select photo_id from matching.photo_hashes union all select photo_id from matching.hash_failures")
        catalogued = [r[0] for r in cur.fetchall()]
    assert sorted(catalogued) == sorted(exclusive), "catalogue and rule disagree"
    assert counts["eligible"] == len(exclusive)
    by_source = {s: sum(v == s for v in exclusive.values()) for s in set(exclusive.values())}
    assert by_source.get("owner_default", 0) > 0, "the sample has photos protected by their owner's default"

    line = dict(demo.summary_rows())["exclusive photos (protected by)"]
    print(f"exclusive photos (protected by): {line}")
    assert line.startswith(f"{len(exclusive)} (flag {by_source.get('photo', 0)}, owner default {by_source['owner_default']}")

"""Twenty inspectors claiming from 1,000 queued photos at once, each on its own connection:
no photo is claimed twice, none is lost, every decision is recorded once."""
from __future__ import annotations

import threading
from collections import Counter

from lightbox import db
from lightbox.inspector import queue as q

INSPECTORS = 20
PHOTOS = 1000


def test_twenty_inspectors_work_through_a_thousand_photos(conn, db_url, seed):
    ids = seed(conn, None, PHOTOS, images=False)
    start = threading.Barrier(INSPECTORS)
    claimed: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def work(name: str) -> None:
        mine: list[str] = []
        claimed[name] = mine
        c = db.connect(db_url)
        try:
            start.wait()
            while True:
                claim = q.claim_next(c, name)
                if claim is None:
                    return
                assert not claim.already_held
                mine.append(claim.photo_id)
                decision = ("accepted", "rejected", "changes_required")[len(mine) % 3]
                q.decide(c, name, claim.photo_id, decision, reason_code="composition", releases=["model_release"])
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            c.close()

    threads = [threading.Thread(target=work, args=(f"inspector{i:02d}",)) for i in range(INSPECTORS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    every = [pid for mine in claimed.values() for pid in mine]
    dupes = [pid for pid, n in Counter(every).items() if n > 1]
    assert not dupes, f"claimed twice: {dupes[:5]}"
    assert sorted(every) == sorted(ids)  # none lost
    assert sum(1 for mine in claimed.values() if mine) > 1  # they really worked in parallel
    with conn.cursor() as cur:
        cur.execute("select count(*), count(distinct photo_id) from licensing.decisions")
        assert cur.fetchone() == (PHOTOS, PHOTOS)
        cur.execute("select status, count(*) from licensing.review_queue group by 1")
        assert dict(cur.fetchall()) == {"decided": PHOTOS}
        cur.execute("""select count(*) from licensing.decisions d join licensing.review_queue r using (photo_id)
                        where r.decision <> d.decision or r.claimed_by <> d.inspector_id""")
        assert cur.fetchone()[0] == 0


def test_simultaneous_claims_get_distinct_photos(conn, db_url, seed):
    seed(conn, None, 50, images=False)
    start = threading.Barrier(INSPECTORS)
    got: dict[str, str | None] = {}

    def grab(name: str) -> None:
        c = db.connect(db_url)
        try:
            start.wait()
            claim = q.claim_next(c, name)
            got[name] = claim.photo_id if claim else None
        finally:
            c.close()

    threads = [threading.Thread(target=grab, args=(f"i{i}",)) for i in range(INSPECTORS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(got) == INSPECTORS and None not in got.values()
    assert len(set(got.values())) == INSPECTORS
    # the twenty best: skip locked never passes over a free higher-priority photo for good
    assert sorted(got.values()) == [f"p{i:05d}" for i in range(INSPECTORS)]

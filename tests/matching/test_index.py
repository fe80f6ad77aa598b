"""The exact Hamming index: every search path returns exactly the brute-force pairs, entries
appended after the tables were built are found without a rebuild, and the catalogue index
stays right through incremental adds, removals and compaction."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lightbox.matching.hashing import HashResult
from lightbox.matching.index import HAVE_NUMBA, CatalogIndex, HammingIndex


def _pairs(result) -> set[tuple[int, int, int]]:
    q, e, d = result
    return set(zip(q.tolist(), e.tolist(), d.tolist()))


def _planted(rng, n: int, n_queries: int, radius: int):
    """Random hashes, and queries of which half have 1-3 entries within ``radius`` bits."""
    hashes = rng.integers(0, 2**63, n, dtype=np.uint64) ^ (rng.integers(0, 2, n, dtype=np.uint64) << np.uint64(63))
    queries = rng.integers(0, 2**63, n_queries, dtype=np.uint64)
    for i in range(0, n_queries, 2):
        for _ in range(rng.integers(1, 4)):
            flip = np.uint64(0)
            for b in rng.choice(64, size=rng.integers(0, radius + 1), replace=False):
                flip |= np.uint64(1) << np.uint64(int(b))
            hashes[rng.integers(0, n)] = queries[i] ^ flip
    return hashes, queries


@pytest.fixture
def small_brute_limit(monkeypatch):
    monkeypatch.setattr(HammingIndex, "BRUTE_LIMIT", 1000)
    monkeypatch.setattr(HammingIndex, "DELTA_LIMIT", 5000)


@pytest.mark.parametrize("radius", [0, 5, 11])
def test_every_search_path_equals_brute_force(radius, small_brute_limit):
    rng = np.random.default_rng(radius)
    hashes, queries = _planted(rng, 20_000, 400, radius)
    idx = HammingIndex(hashes)
    truth = _pairs(idx.search_brute(queries, radius))
    assert len(truth) >= 200  # the planted neighbours are there to find
    assert _pairs(idx.search_mih(queries, radius)) == truth
    assert _pairs(idx.search(queries, radius)) == truth
    if HAVE_NUMBA:
        assert _pairs(idx.search_compiled(queries, radius)) == truth


def test_appended_entries_are_found_without_a_rebuild(small_brute_limit):
    rng = np.random.default_rng(3)
    hashes, queries = _planted(rng, 20_000, 200, 11)
    idx = HammingIndex(hashes[:16_000])
    idx.prepare()
    tables = idx._tables
    idx.append(hashes[16_000:])
    assert idx.delta == 4_000
    assert _pairs(idx.search(queries, 11)) == _pairs(idx.search_brute(queries, 11))
    assert idx._tables is tables  # the delta was brute-forced, the tables kept
    idx.append(hashes[:2_000])  # the delta outgrows DELTA_LIMIT: one rebuild, at the next search
    result = idx.search(queries, 11)
    assert idx._tables is not tables and idx.delta == 0
    assert _pairs(result) == _pairs(idx.search_brute(queries, 11))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), radius=st.integers(0, 11), n=st.integers(1, 3000))
def test_mih_matches_brute_force_on_random_data(seed, radius, n):
    rng = np.random.default_rng(seed)
    hashes, queries = _planted(rng, n, 40, radius)
    idx = HammingIndex(hashes)
    assert _pairs(idx.search_mih(queries, radius)) == _pairs(idx.search_brute(queries, radius))


def _synthetic(rng, n_crops: int = 20) -> HashResult:
    """A catalogue-shaped HashResult with random hashes (no pixels needed)."""
    n = 1 + n_crops
    return HashResult(
        width=256, height=192, quality=0.9, content=(0.0, 0.0, 1.0, 1.0),
        kinds=["global"] + ["crop"] * n_crops, variants=["identity"] * n,
        rects=np.tile(np.array([[0.0, 0.0, 1.0, 1.0]], np.float32), (n, 1)),
        h64=rng.integers(0, 2**63, n, dtype=np.uint64), h256=rng.integers(0, 256, (n, 32), dtype=np.uint8),
    )


def _hit(h: HashResult, row: int) -> HashResult:
    """A found image whose global hash equals catalogue hash ``row`` of ``h``."""
    return HashResult(width=200, height=150, quality=0.9, content=(0.0, 0.0, 1.0, 1.0), kinds=["global"],
                      variants=["identity"], rects=np.array([[0, 0, 1, 1]], np.float32),
                      h64=h.h64[row:row + 1].copy(), h256=h.h256[row:row + 1].copy())


def test_catalog_index_incremental_add_remove_and_compaction(small_brute_limit):
    rng = np.random.default_rng(11)
    photos = {f"p{i}": _synthetic(rng) for i in range(200)}
    index = CatalogIndex(use_orb=False)
    for pid, h in photos.items():  # 4,200 rows: above the (patched) brute-force limit
        index.add(pid, h)
    assert len(index) == 200 and index.n_hashes == 200 * 21
    assert [m.photo_id for m in index.query(_hit(photos["p7"], 0))] == ["p7"]
    assert index.query(_hit(photos["p9"], 3))[0].method == "phash_crop"
    for i in range(0, 120, 2):  # more than a quarter removed: compaction on the way
        index.remove(f"p{i}")
    assert len(index) == 140 and index.n_hashes == 140 * 21
    assert index.query(_hit(photos["p10"], 0)) == []
    assert [m.photo_id for m in index.query(_hit(photos["p11"], 0))] == ["p11"]
    assert [m.photo_id for m in index.query(_hit(photos["p199"], 5))] == ["p199"]
    index.add("p10", photos["p10"])  # back again, after compaction
    assert [m.photo_id for m in index.query(_hit(photos["p10"], 2))] == ["p10"]
    index.add("p11", photos["p13"])  # a new version replaces the old rows
    assert index.query(_hit(photos["p11"], 0)) == []
    assert {m.photo_id for m in index.query(_hit(photos["p13"], 0))} == {"p11", "p13"}

"""Compiled inner loop of the multi-index Hamming search (numba). Optional: without numba
:class:`~lightbox.matching.index.HammingIndex` uses its vectorised numpy path, which gives
the same results more slowly."""
from __future__ import annotations

import numba
import numpy as np

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)


@numba.njit(inline="always")
def _popcount(x):
    x = x - ((x >> np.uint64(1)) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return (x * _H01) >> np.uint64(56)


@numba.njit(parallel=True, cache=True, nogil=True)
def search(queries, radius, shifts, keymasks, chunkmasks, radii, masks, n_masks, offsets, hsorted, order, slots):
    """For each query, up to ``slots`` (entry, distance) pairs within ``radius``; counts
    above ``slots`` mean the caller must redo that query with a bigger buffer."""
    nq = queries.shape[0]
    out_e = np.empty((nq, slots), np.int64)
    out_d = np.empty((nq, slots), np.uint8)
    counts = np.zeros(nq, np.int64)
    n_chunks = shifts.shape[0]
    for i in numba.prange(nq):
        q = queries[i]
        c = 0
        for j in range(n_chunks):
            if radii[j] < 0:
                continue
            key = (q >> shifts[j]) & keymasks[j]
            for m in range(n_masks[j]):
                p = np.int64(key ^ np.uint64(masks[j, m]))
                for pos in range(offsets[j, p], offsets[j, p + 1]):
                    x = q ^ hsorted[j, pos]
                    d = _popcount(x)
                    if d <= radius:
                        dup = False
                        for k in range(j):
                            if radii[k] >= 0 and _popcount(x & chunkmasks[k]) <= radii[k]:
                                dup = True
                                break
                        if not dup:
                            if c < slots:
                                out_e[i, c] = order[j, pos]
                                out_d[i, c] = d
                            c += 1
        counts[i] = c
    return out_e, out_d, counts


@numba.njit(cache=True)
def bucket_sort(keys, n_buckets):
    """(order, offsets) of a counting sort of ``keys`` in [0, n_buckets): stable, O(n)."""
    counts = np.zeros(n_buckets + 1, np.int64)
    for k in keys:
        counts[k + 1] += 1
    for b in range(n_buckets):
        counts[b + 1] += counts[b]
    offsets = counts.copy()
    order = np.empty(keys.shape[0], np.int32)
    fill = counts[:-1].copy()
    for i in range(keys.shape[0]):
        k = keys[i]
        order[fill[k]] = i
        fill[k] += 1
    return order, offsets

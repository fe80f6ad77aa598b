"""The catalogue index: exact Hamming-radius search over 64-bit hashes, then confirmation.

Stage 1 (exact retrieval): every catalogue hash within ``RADIUS`` bits of any query hash.
:class:`HammingIndex` does it with multi-index hashing (the 64 bits split into 3 chunks of
22/21/21 bits; by pigeonhole a hash within R bits has a chunk within R // 3 bits, so probing
every chunk value within R // 3 bits in direct-address tables finds all of them), falling back to
vectorised popcount brute force for small catalogues and for the photos added since the
tables were built. Every path returns exactly the same pairs (tests/matching/test_index.py).

Stage 2 (decision): a candidate is a match when its 256-bit companion hash is within the
pair's threshold (``phash`` methods). A candidate over its threshold but within
``ORB_GATE`` goes to ORB verification: the photo's stored ORB features and the found
image's (or its proposed region's) must agree on a RANSAC similarity transform (``orb``
method). Thresholds are in :data:`THRESHOLDS`, chosen on the calibration set of
``benchmarks/matching.py`` (see docs/matching.md).
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field

import numpy as np

from lightbox.matching import verify
from lightbox.matching.hashing import HashResult

try:  # the compiled search loop; the numpy path gives the same results without it
    import numba  # noqa: F401

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False

RADIUS = 11  # stage-1 Hamming radius on 64 bits (MIH below is exact up to 11)
# stage-2 thresholds on the 256-bit companion hash, per (catalogue kind, query kind)
THRESHOLDS = {
    ("global", "global"): 56,
    ("tilt", "global"): 56,
    ("crop", "global"): 48,
    ("global", "region"): 56,
    ("tilt", "region"): 48,
    ("crop", "region"): 48,
}
# corner-masked views of a found image against the photo's same crop; reported as method
# "phash_crop" (details.query_hash == "sub"), within phash_crop's published threshold
SUB_THRESHOLDS = {("crop", "sub"): 48}


def _method(catalog_kind: str, query_kind: str) -> str:
    """The reported method of a hash pair (a corner-masked view is reported as a crop)."""
    name = {"global": "phash", "tilt": "phash_tilt", "crop": "phash_crop"}[catalog_kind]
    return name + "_region" if query_kind == "region" else name


# the threshold each reported method is held to (distance = Hamming distance of the 256-bit
# hashes; for "orb" 1 - inliers/keypoints, accepted by RANSAC rules rather than a cut-off)
def _method_thresholds() -> dict[str, float]:
    limits: dict[str, float] = {"orb": 1.0}
    for (catalog_kind, query_kind), limit in {**THRESHOLDS, **SUB_THRESHOLDS}.items():
        method = _method(catalog_kind, query_kind)
        limits[method] = max(limit, limits.get(method, 0))
    return limits


METHOD_THRESHOLDS = _method_thresholds()
# a candidate over its threshold goes to ORB verification only when its 256-bit distance is
# at most this: genuine copies that needed ORB were at 50-82 in development runs of the
# benchmark, unrelated candidates sit at 110 +- 8 (matching.jsonl, "thresholds"), so a
# catalogue of random-looking neighbours costs no ORB work
ORB_GATE = 90
CATALOG_KINDS = ("global", "tilt", "crop")
_PAIR_PRIORITY = {("global", "global"): 0, ("tilt", "global"): 1, ("crop", "global"): 2, ("global", "region"): 3,
                  ("tilt", "region"): 4, ("crop", "region"): 5, ("crop", "sub"): 6}
QUERY_KINDS = ("global", "region", "sub")
_KIND_CODE = {k: i for i, k in enumerate(CATALOG_KINDS)}


@dataclass
class Match:
    photo_id: str
    distance: float
    method: str
    transform: str | None
    details: dict = field(default_factory=dict)


def popcount64(x: np.ndarray) -> np.ndarray:
    return np.bitwise_count(x)


class _Grow:
    """A numpy array that grows at its end in amortised O(1) (capacity doubles), so indexing
    a catalogue photo by photo costs the same as indexing it in one go."""

    def __init__(self, dtype, width: tuple[int, ...] = ()):
        self._a = np.zeros((16, *width), dtype)
        self.n = 0

    @property
    def a(self) -> np.ndarray:
        return self._a[: self.n]

    def extend(self, values: np.ndarray) -> None:
        values = np.asarray(values, self._a.dtype)
        need = self.n + len(values)
        if need > len(self._a):
            bigger = np.zeros((max(need, 2 * len(self._a)), *self._a.shape[1:]), self._a.dtype)
            bigger[: self.n] = self._a[: self.n]
            self._a = bigger
        self._a[self.n : need] = values
        self.n = need

    def keep(self, mask: np.ndarray) -> None:
        kept = self._a[: self.n][mask]
        self._a = np.ascontiguousarray(kept) if len(kept) else np.zeros((16, *self._a.shape[1:]), self._a.dtype)
        self.n = len(kept)


class HammingIndex:
    """Exact radius search over uint64 hashes. ``search(queries, radius)`` returns
    (query_row, entry_row, distance) arrays; entries are append-only rows, deletions are
    filtered by the caller.

    Small indexes are searched by brute force. Large ones keep multi-index-hashing tables for
    the entries they were built over (the *base*) and search entries appended since (the
    *delta*) by brute force, so adding a photo costs an append, never a rebuild on the spot.
    Once the delta passes ``DELTA_LIMIT`` rows (about 120 photos) the next search rebuilds
    the tables over everything (2.5 s at 10 million hashes): the brute-forced part stays
    small, so a query never pays for more than ``DELTA_LIMIT`` popcounts per hash."""

    CHUNKS = ((0, 22), (22, 21), (43, 21))
    BRUTE_LIMIT = 200_000  # below this many entries brute force is as fast (benchmark)
    DELTA_LIMIT = 32_768

    def __init__(self, hashes: np.ndarray | None = None):
        self._h = _Grow(np.uint64)
        if hashes is not None:
            self._h.extend(hashes)
        self._tables = None  # (shifts, keymasks, chunkmasks, offsets, hsorted, order) over the base
        self._base = 0  # entries [0, _base) are in the tables
        self._lock = threading.Lock()

    @property
    def h(self) -> np.ndarray:
        return self._h.a

    def __len__(self):
        return self._h.n

    def append(self, hashes: np.ndarray) -> None:
        self._h.extend(hashes)

    def replace(self, hashes: np.ndarray) -> None:
        self._h = _Grow(np.uint64)
        self._h.extend(hashes)
        self._tables, self._base = None, 0

    @property
    def delta(self) -> int:
        """Entries appended since the tables were built (searched by brute force)."""
        return len(self) - self._base

    # -- brute force ---------------------------------------------------------------------
    def search_brute(self, queries: np.ndarray, radius: int, batch: int = 64, start: int = 0):
        """Brute force over entries ``start ..`` (vectorised popcount)."""
        q = np.asarray(queries, np.uint64)
        h = self.h[start:]
        qs, es, ds = [], [], []
        for first in range(0, len(q), batch):
            d = popcount64(q[first:first + batch, None] ^ h[None, :])
            qi, ei = np.nonzero(d <= radius)
            qs.append(qi + first)
            es.append(ei + start)
            ds.append(d[qi, ei])
        if not qs:
            return _empty()
        return np.concatenate(qs), np.concatenate(es), np.concatenate(ds)

    # -- multi-index hashing ---------------------------------------------------------------
    def build(self) -> None:
        """Per chunk: the entries sorted by chunk value (a permuted copy of the hashes, so a
        bucket is read contiguously), their entry numbers, and a direct-address offset table,
        stacked over the chunks (the form both search loops read: no second copy)."""
        h = self.h
        n = len(h)
        small = n < 2**31
        width = max((1 << bits) + 1 for _, bits in self.CHUNKS)
        offsets = np.empty((len(self.CHUNKS), width), np.int32 if small else np.int64)
        hsorted = np.empty((len(self.CHUNKS), n), np.uint64)
        order = np.empty((len(self.CHUNKS), n), np.int32 if small else np.int64)
        for j, (off, bits) in enumerate(self.CHUNKS):
            keys = ((h >> np.uint64(off)) & np.uint64((1 << bits) - 1)).astype(np.int32)
            if HAVE_NUMBA and small:
                from lightbox.matching import _mih_numba

                o, offs = _mih_numba.bucket_sort(keys, 1 << bits)
            else:
                o = np.argsort(keys, kind="stable")
                offs = np.zeros((1 << bits) + 1, np.int64)
                np.cumsum(np.bincount(keys, minlength=1 << bits), out=offs[1:])
            del keys
            order[j] = o
            hsorted[j] = h[o]
            offsets[j, : len(offs)] = offs
            offsets[j, len(offs):] = offs[-1]
        self._tables = (
            np.array([off for off, _ in self.CHUNKS], np.uint64),
            np.array([(1 << bits) - 1 for _, bits in self.CHUNKS], np.uint64),
            np.array([((1 << bits) - 1) << off for off, bits in self.CHUNKS], np.uint64),
            offsets, hsorted, order,
        )
        self._base = n

    def prepare(self) -> None:
        """Build the search tables now if the next search would (before parallel queries)."""
        with self._lock:
            if len(self) >= self.BRUTE_LIMIT and (self._tables is None or self.delta > self.DELTA_LIMIT):
                self.build()

    def sub_radii(self, radius: int) -> list[int]:
        """Per-chunk probe radii r_i with sum(r_i + 1) > radius (generalised pigeonhole: a
        hash within ``radius`` then has some chunk i within r_i), the cheapest chunks last."""
        m = len(self.CHUNKS)
        base, extra = divmod(radius + 1, m)  # need sum(r_i + 1) >= radius + 1
        # chunks in order of size (largest first get the larger radius: fewer items per bucket)
        return [base - 1 + (1 if i < extra else 0) for i in range(m)]

    @staticmethod
    def _flip_masks(bits: int, r: int) -> np.ndarray:
        masks = [0]
        for k in range(1, r + 1):
            for combo in itertools.combinations(range(bits), k):
                masks.append(sum(1 << b for b in combo))
        return np.asarray(masks, np.int64)

    def search_mih(self, queries: np.ndarray, radius: int, batch: int = 512):
        """Multi-index hashing over the base entries, vectorised numpy (no numba needed)."""
        if self._tables is None:
            self.build()
        shifts, keymasks, chunkmasks, offsets, hsorted_all, order_all = self._tables
        q = np.asarray(queries, np.uint64)
        radii = self.sub_radii(radius)
        masks = [self._flip_masks(bits, r) if r >= 0 else None for (_, bits), r in zip(self.CHUNKS, radii)]
        out_q, out_e, out_d = [], [], []
        for start in range(0, len(q), batch):
            qb = q[start:start + batch]
            for j in range(len(self.CHUNKS)):
                if masks[j] is None:
                    continue
                hsorted, order = hsorted_all[j], order_all[j]
                key = ((qb >> shifts[j]) & keymasks[j]).astype(np.int64)
                probes = (key[:, None] ^ masks[j][None, :]).ravel()
                lo = offsets[j][probes].astype(np.int64)
                cnt = offsets[j][probes + 1] - lo
                nz = cnt > 0
                lo, cnt = lo[nz], cnt[nz]
                total = int(cnt.sum())
                if total == 0:
                    continue
                qrow = np.repeat(np.repeat(np.arange(len(qb)), len(masks[j]))[nz], cnt)
                pos = np.repeat(lo - np.concatenate(([0], np.cumsum(cnt)[:-1])), cnt) + np.arange(total)
                x = qb[qrow] ^ hsorted[pos]
                d = popcount64(x)
                keep = d <= radius
                # a pair within the radius is reported by the first chunk that finds it only
                for i in range(j):
                    if masks[i] is not None:
                        keep &= popcount64(x & chunkmasks[i]) > radii[i]
                out_q.append(qrow[keep] + start)
                out_e.append(order[pos[keep]].astype(np.int64))
                out_d.append(d[keep])
        if not out_q:
            return _empty()
        return np.concatenate(out_q), np.concatenate(out_e), np.concatenate(out_d)

    def search_compiled(self, queries: np.ndarray, radius: int, slots: int = 32):
        """The MIH search over the base entries as one compiled, multi-threaded loop (numba).
        Same results as :meth:`search_mih` and :meth:`search_brute`."""
        from lightbox.matching import _mih_numba

        if self._tables is None:
            self.build()
        shifts, keymasks, chunkmasks, offsets, hsorted, order = self._tables
        radii = np.array(self.sub_radii(radius), np.int64)
        flips = [self._flip_masks(bits, r) if r >= 0 else np.zeros(0, np.int64) for (_, bits), r in zip(self.CHUNKS, radii)]
        masks = np.zeros((len(flips), max(1, max(len(f) for f in flips))), np.int64)
        for j, f in enumerate(flips):
            masks[j, : len(f)] = f
        n_masks = np.array([len(f) for f in flips], np.int64)
        q = np.ascontiguousarray(queries, np.uint64)
        out_e, out_d, counts = _mih_numba.search(q, np.uint64(radius), shifts, keymasks, chunkmasks, radii,
                                                 masks, n_masks, offsets, hsorted, order, slots)
        over = np.nonzero(counts > slots)[0]
        qs, es, ds = [], [], []
        n = np.minimum(counts, slots)
        rows = np.repeat(np.arange(len(q)), n)
        cols = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        keep = ~np.isin(rows, over)
        qs.append(rows[keep])
        es.append(out_e[rows[keep], cols[keep]])
        ds.append(out_d[rows[keep], cols[keep]])
        if len(over):  # crowded queries (clustered data): redo them with room for all
            e2, d2, c2 = _mih_numba.search(q[over], np.uint64(radius), shifts, keymasks, chunkmasks, radii, masks,
                                           n_masks, offsets, hsorted, order, int(counts.max()))
            rows2 = np.repeat(np.arange(len(over)), c2)
            cols2 = np.arange(int(c2.sum())) - np.repeat(np.cumsum(c2) - c2, c2)
            qs.append(over[rows2])
            es.append(e2[rows2, cols2])
            ds.append(d2[rows2, cols2])
        return np.concatenate(qs), np.concatenate(es), np.concatenate(ds)

    def search(self, queries: np.ndarray, radius: int):
        if len(self) == 0 or len(queries) == 0:
            return _empty()
        if len(self) < self.BRUTE_LIMIT:
            return self.search_brute(queries, radius)
        self.prepare()
        base = self.search_compiled(queries, radius) if HAVE_NUMBA else self.search_mih(queries, radius)
        if self.delta == 0:
            return base
        extra = self.search_brute(queries, radius, start=self._base)
        return tuple(np.concatenate([a, b]) for a, b in zip(base, extra))


def _empty():
    return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.uint8)


def _h256_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances between rows of two (n, 32) uint8 arrays (row by row)."""
    x = np.bitwise_xor(a, b).view(np.uint64)
    return np.bitwise_count(x).sum(axis=1)


def _slim(h: HashResult) -> HashResult:
    """What the index keeps of a catalogue photo besides its hash rows: size, content
    rectangle, quality and ORB features (for verification and explanations)."""
    return HashResult(width=h.width, height=h.height, quality=h.quality, content=tuple(h.content),
                      kinds=[], variants=[], rects=np.zeros((0, 4), np.float32),
                      h64=np.zeros(0, np.uint64), h256=np.zeros((0, 32), np.uint8),
                      kp=h.kp, desc=h.desc, version=h.version, reasons=list(h.reasons))


class CatalogIndex:
    """In-memory index of catalogue photos, built from HashResults. ``add``/``remove`` are
    incremental: a photo's hash rows are appended (amortised O(1), no table rebuild, see
    :class:`HammingIndex`); removal is a tombstone, and rows are compacted when a quarter is
    dead. Per hash row it keeps the 64-bit hash (and its search tables), the 256-bit hash,
    the photo row, the kind and the rectangle (float16 fractions): about 70 bytes."""

    def __init__(self, radius: int = RADIUS, thresholds: dict | None = None, use_orb: bool = True):
        self.radius = radius
        self.thresholds = dict(THRESHOLDS if thresholds is None else thresholds)
        if thresholds is None:
            self.thresholds.update(SUB_THRESHOLDS)
        self.use_orb = use_orb
        self._photos: dict[str, HashResult] = {}
        self._ids: list[str] = []  # photo row -> id
        self._row_of: dict[str, int] = {}
        self._span = _Grow(np.int64, (2,))  # photo row -> [first, end) of its hash rows
        self._hidx = HammingIndex()
        self._h256 = _Grow(np.uint8, (32,))
        self._owner = _Grow(np.int32)  # hash row -> photo row
        self._kind = _Grow(np.int8)
        self._rect = _Grow(np.float16, (4,))
        self._alive = _Grow(bool)
        self._dead = 0

    def __len__(self) -> int:
        return len(self._photos)

    def __contains__(self, photo_id: str) -> bool:
        return photo_id in self._photos

    @property
    def n_hashes(self) -> int:
        return self._alive.n - self._dead

    def add(self, photo_id: str, h: HashResult) -> None:
        """Index a catalogue photo (replacing an earlier version). Featureless photos are
        kept out: nothing could be matched against them reliably."""
        if photo_id in self._photos:
            self.remove(photo_id)
        h.ensure_catalog()
        if not h.matchable:
            return
        # the catalogue side stores the upright global hash only: the query carries all 8
        # dihedral variants, so storing them here too would only multiply the comparisons
        kinds = np.array([_KIND_CODE.get(k, -1) for k in h.kinds], np.int8)
        keep = (kinds >= 0) & ((kinds != _KIND_CODE["global"]) | np.array([v == "identity" for v in h.variants], bool))
        rows = np.flatnonzero(keep)
        if len(rows) == 0:
            return
        prow = len(self._ids)
        first = self._alive.n
        self._ids.append(photo_id)
        self._row_of[photo_id] = prow
        self._photos[photo_id] = _slim(h)
        self._span.extend([[first, first + len(rows)]])
        self._hidx.append(h.h64[rows])
        self._h256.extend(h.h256[rows])
        self._owner.extend(np.full(len(rows), prow, np.int32))
        self._kind.extend(kinds[rows])
        self._rect.extend(h.rects[rows])
        self._alive.extend(np.ones(len(rows), bool))

    def remove(self, photo_id: str) -> None:
        prow = self._row_of.pop(photo_id, None)
        self._photos.pop(photo_id, None)
        if prow is None:
            return
        first, end = self._span.a[prow]
        self._alive.a[first:end] = False
        self._dead += int(end - first)
        if self._dead > 0.25 * self._alive.n:
            self._compact()

    def _compact(self) -> None:
        keep = self._alive.a.copy()
        self._hidx.replace(self._hidx.h[keep])
        for col in (self._h256, self._owner, self._kind, self._rect, self._alive):
            col.keep(keep)
        new_first = np.concatenate([[0], np.cumsum(keep)])  # old row -> new row
        span = self._span.a
        span[:] = new_first[span]
        self._dead = 0

    def prepare(self) -> None:
        """Build the search tables now (they are built lazily by the first query that needs
        them); call it before querying from several threads."""
        self._hidx.prepare()

    def query(self, h: HashResult, limit: int = 10) -> list[Match]:
        """Catalogue photos that ``h`` (a found image) is a copy of, best first."""
        if not h.matchable or not self._photos:
            return []
        qrows = h.select(QUERY_KINDS)
        qi, ei, d64 = self._hidx.search(h.h64[qrows], self.radius)
        alive = self._alive.a[ei]
        qi, ei, d64 = qi[alive], ei[alive], d64[alive]
        if len(qi) == 0:
            return []
        qrow = qrows[qi]
        d256 = _h256_distance(h.h256[qrow], self._h256.a[ei])
        best: dict[str, Match] = {}
        pending: dict[int, list] = {}
        # the best explanation first: distance relative to the pair's threshold plus a small
        # penalty per step away from the simplest pair (a plain re-encode is "phash", not a
        # corner-masked crop; a 10 % crop is "cropped 10%" even when the global hash passes)
        ckinds = [CATALOG_KINDS[k] for k in self._kind.a[ei]]
        qkinds = [h.kinds[r] for r in qrow]
        rel = np.array([d / self.thresholds.get((c, q), 1e9) if (c, q) in self.thresholds else 1e9
                        for d, c, q in zip(d256.tolist(), ckinds, qkinds)])
        prio = np.array([_PAIR_PRIORITY.get((c, q), 99) for c, q in zip(ckinds, qkinds)])
        for k in np.argsort(rel + 0.15 * prio, kind="stable"):
            e, r, dist = int(ei[k]), int(qrow[k]), int(d256[k])
            ckind, qkind = ckinds[k], qkinds[k]
            pid = self._ids[self._owner.a[e]]
            limit256 = self.thresholds.get((ckind, qkind))
            if qkind == "sub" and ckind != "crop":
                continue  # a corner-less view is only compared with the same crop of a photo
            if limit256 is not None and dist <= limit256:
                if pid not in best:
                    best[pid] = self._hash_match(pid, e, r, h, dist, int(d64[k]), ckind, qkind)
            elif pid not in best and dist <= ORB_GATE:
                pending.setdefault(int(self._owner.a[e]), []).append((dist, e, r))
        if self.use_orb:
            for prow, cands in pending.items():
                pid = self._ids[prow]
                if pid in best:
                    continue
                found = self._orb_match(pid, h, min(c[0] for c in cands), cands)
                if found is not None:
                    best[pid] = found
        return sorted(best.values(), key=lambda m: (m.method == "orb", m.distance))[:limit]

    def _hash_match(self, pid, e, r, h, dist, d64, ckind, qkind) -> Match:
        variant = h.variants[r]
        rect_c = [round(float(v), 4) for v in self._rect.a[e]]
        rect_f = [round(float(v), 4) for v in h.rects[r]]
        details: dict = {"hamming64": d64, "hamming256": dist, "catalog_hash": ckind, "query_hash": qkind,
                         "region_catalog_frac": rect_c, "region_found_frac": rect_f}
        transform = None if variant == "identity" else variant
        if variant == "flip_horizontal":
            details["flipped"] = True
        photo = self._photos[pid]
        if qkind == "sub":
            transform = "+".join(t for t in (transform, "overlay in a corner") if t)
            details["region_compared_frac"] = rect_f
        elif ckind == "crop":
            cx0, cy0, cx1, cy1 = photo.content
            cw, ch = cx1 - cx0, cy1 - cy0
            sides = [(rect_c[0] - cx0) / cw, (rect_c[1] - cy0) / ch, (cx1 - rect_c[2]) / cw, (cy1 - rect_c[3]) / ch]
            details["crop_pct"] = round(100 * max(sides))
            details["crop_sides_pct"] = [round(100 * s) for s in sides]
            details["overlap_pct"] = round(100 * (rect_c[2] - rect_c[0]) * (rect_c[3] - rect_c[1]) / (cw * ch), 1)
            transform = "+".join(t for t in (transform, f"cropped {details['crop_pct']}%") if t)
        elif ckind == "tilt":
            transform = "+".join(t for t in (transform, "rotated ~3deg") if t)
        if qkind == "region" or (qkind == "global" and any(abs(a - b) > 0.01 for a, b in zip(h.content, (0, 0, 1, 1)))):
            fx0, fy0, fx1, fy1 = rect_f
            details["found_coverage_pct"] = round(100 * (fx1 - fx0) * (fy1 - fy0), 1)
            label = "composite" if qkind == "region" else "padded"
            transform = "+".join(t for t in (transform, label) if t)
        method = _method(ckind, qkind)

        return Match(pid, float(dist), method, transform, details)

    def _orb_match(self, pid: str, h: HashResult, d256: int, cands=()) -> Match | None:
        photo = self._photos[pid]
        res = verify.fit(photo.kp, photo.desc, h.kp, h.desc) if h.ensure_features() else None
        if res is None:
            # a photo inside a banner: keypoints of the proposed region only (best two)
            regions = sorted({(d, tuple(np.round(h.rects[r], 4))) for d, e, r in cands if h.kinds[r] == "region"})
            for _, rect in regions[:2]:
                kp, desc = h.features_in(rect)
                res = verify.fit(photo.kp, photo.desc, kp, desc)
                if res is not None:
                    break
        if res is None:
            return None
        details = verify.regions(res, (photo.width, photo.height), (h.width, h.height))
        for key, size in (("region_catalog", (photo.width, photo.height)), ("region_found", (h.width, h.height))):
            r = details.pop(key)
            details[key + "_frac"] = [round(r[0] / size[0], 4), round(r[1] / size[1], 4),
                                       round(r[2] / size[0], 4), round(r[3] / size[1], 4)]
        details["hamming256"] = d256
        parts = []
        if abs(details["rotation_deg"]) >= 1:
            parts.append(f"rotated {details['rotation_deg']}deg")
        if details["overlap_pct"] < 97:
            parts.append(f"cropped to {details['overlap_pct']}% of the photo")
        if details["found_coverage_pct"] < 90:
            parts.append("composite or padded")
        # distance for ORB matches: share of unmatched keypoints, lower is better (0..1)
        dist = round(1.0 - min(1.0, details["inliers"] / max(1, min(len(photo.kp), len(h.kp)))), 4)
        return Match(pid, dist, "orb", "+".join(parts) or None, details)

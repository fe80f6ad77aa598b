"""The catalogue index: exact Hamming-radius search over 64-bit hashes, then confirmation.

Stage 1 (exact retrieval): every catalogue hash within ``RADIUS`` bits of any query hash.
:class:`HammingIndex` does it with multi-index hashing (the 64 bits split into 3 chunks of
22/21/21 bits; by pigeonhole a hash within R bits has a chunk within R // 3 bits, so probing
every chunk value within R // 3 bits in direct-address tables finds all of them), falling back to
vectorised popcount brute force for small catalogues. Both return exactly the same pairs.

Stage 2 (decision): a candidate is a match when its 256-bit companion hash is within the
method's threshold (``pHash`` methods), or, failing that, when ORB features stored in both
HashResults agree on a RANSAC similarity transform (``orb`` method). Thresholds are in
:data:`THRESHOLDS`, chosen from ``benchmarks/matching.py`` (see docs/matching.md).
"""
from __future__ import annotations

import itertools
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
    ("tilt", "global"): 40,
    ("crop", "global"): 40,
    ("global", "region"): 40,
    ("tilt", "region"): 32,
    ("crop", "region"): 32,
}
# corner-masked views of a found image against the photo's same crop; reported as method
# "phash_crop" (details.query_hash == "sub"), within phash_crop's published threshold
SUB_THRESHOLDS = {("crop", "sub"): 32}
# the threshold each reported method is held to (distance = Hamming distance of the 256-bit
# hashes; for "orb" 1 - inliers/keypoints, accepted by RANSAC rules rather than a cut-off)
METHOD_THRESHOLDS = {
    "phash": 56, "phash_tilt": 40, "phash_crop": 40,
    "phash_region": 40, "phash_tilt_region": 32, "phash_crop_region": 32, "orb": 1.0,
}
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


class HammingIndex:
    """Exact radius search over uint64 hashes. ``search(queries, radius)`` returns
    (query_row, entry_row, distance) arrays; entries are append-only rows, deletions are
    filtered by the caller. MIH tables are (re)built lazily after appends."""

    CHUNKS = ((0, 22), (22, 21), (43, 21))
    BRUTE_LIMIT = 200_000  # below this many entries brute force is as fast (benchmark)

    def __init__(self, hashes: np.ndarray | None = None):
        self.h = np.zeros(0, np.uint64) if hashes is None else np.asarray(hashes, np.uint64)
        self._tables = None

    def __len__(self):
        return len(self.h)

    def append(self, hashes: np.ndarray) -> None:
        self.h = np.concatenate([self.h, np.asarray(hashes, np.uint64)])
        self._tables = None
        self._stacked = None

    def replace(self, hashes: np.ndarray) -> None:
        self.h = np.asarray(hashes, np.uint64)
        self._tables = None
        self._stacked = None

    # -- brute force ---------------------------------------------------------------------
    def search_brute(self, queries: np.ndarray, radius: int, batch: int = 64):
        q = np.asarray(queries, np.uint64)
        qs, es, ds = [], [], []
        for start in range(0, len(q), batch):
            d = popcount64(q[start:start + batch, None] ^ self.h[None, :])
            qi, ei = np.nonzero(d <= radius)
            qs.append(qi + start)
            es.append(ei)
            ds.append(d[qi, ei])
        if not qs:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.uint8)
        return np.concatenate(qs), np.concatenate(es), np.concatenate(ds)

    # -- multi-index hashing ---------------------------------------------------------------
    def build(self) -> None:
        """Per chunk: the entries sorted by chunk value (a permuted copy of the hashes, so a
        bucket is read contiguously), their entry numbers, and a direct-address offset table."""
        tables = []
        for off, bits in self.CHUNKS:
            keys = ((self.h >> np.uint64(off)) & np.uint64((1 << bits) - 1)).astype(np.int32)
            if HAVE_NUMBA and len(keys) < 2**31:
                from lightbox.matching import _mih_numba

                order, offsets = _mih_numba.bucket_sort(keys, 1 << bits)
            else:
                order = np.argsort(keys, kind="stable").astype(np.int32 if len(keys) < 2**31 else np.int64)
                counts = np.bincount(keys, minlength=1 << bits)
                offsets = np.zeros((1 << bits) + 1, np.int64)
                np.cumsum(counts, out=offsets[1:])
            tables.append((off, bits, order, offsets, self.h[order]))
        self._tables = tables

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
        if self._tables is None:
            self.build()
        q = np.asarray(queries, np.uint64)
        radii = self.sub_radii(radius)
        masks = [self._flip_masks(bits, r) if r >= 0 else None for (_, bits), r in zip(self.CHUNKS, radii)]
        chunk_masks = [np.uint64(((1 << bits) - 1) << off) for off, bits in self.CHUNKS]
        out_q, out_e, out_d = [], [], []
        for start in range(0, len(q), batch):
            qb = q[start:start + batch]
            for j, (off, bits, order, offsets, hsorted) in enumerate(self._tables):
                if masks[j] is None:
                    continue
                key = ((qb >> np.uint64(off)) & np.uint64((1 << bits) - 1)).astype(np.int64)
                probes = (key[:, None] ^ masks[j][None, :]).ravel()
                lo = offsets[probes]
                cnt = offsets[probes + 1] - lo
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
                        keep &= popcount64(x & chunk_masks[i]) > radii[i]
                out_q.append(qrow[keep] + start)
                out_e.append(order[pos[keep]].astype(np.int64))
                out_d.append(d[keep])
        if not out_q:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.uint8)
        return np.concatenate(out_q), np.concatenate(out_e), np.concatenate(out_d)

    def search_compiled(self, queries: np.ndarray, radius: int, slots: int = 32):
        """The MIH search as one compiled, multi-threaded loop (numba). Same results as
        :meth:`search_mih` and :meth:`search_brute`."""
        from lightbox.matching import _mih_numba

        if self._tables is None:
            self.build()
        if getattr(self, "_stacked", None) is None:
            width = max((1 << bits) + 1 for _, bits in self.CHUNKS)
            small = len(self.h) < 2**31
            offsets = np.empty((len(self.CHUNKS), width), np.int32 if small else np.int64)
            for j, (off, bits, order, offs, hs) in enumerate(self._tables):
                offsets[j, : len(offs)] = offs
                offsets[j, len(offs):] = offs[-1]
            self._stacked = (
                np.array([off for off, _ in self.CHUNKS], np.uint64),
                np.array([(1 << bits) - 1 for _, bits in self.CHUNKS], np.uint64),
                np.array([((1 << bits) - 1) << off for off, bits in self.CHUNKS], np.uint64),
                offsets,
                np.stack([t[4] for t in self._tables]),
                np.stack([t[2] for t in self._tables]),
            )
        shifts, keymasks, chunkmasks, offsets, hsorted, order = self._stacked
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
        qs.append(rows[keep]); es.append(out_e[rows[keep], cols[keep]]); ds.append(out_d[rows[keep], cols[keep]])
        if len(over):  # crowded queries (clustered data): redo them with room for all
            e2, d2, c2 = _mih_numba.search(q[over], np.uint64(radius), shifts, keymasks, chunkmasks, radii, masks,
                                           n_masks, offsets, hsorted, order, int(counts.max()))
            rows2 = np.repeat(np.arange(len(over)), c2)
            cols2 = np.arange(int(c2.sum())) - np.repeat(np.cumsum(c2) - c2, c2)
            qs.append(over[rows2]); es.append(e2[rows2, cols2]); ds.append(d2[rows2, cols2])
        return np.concatenate(qs), np.concatenate(es), np.concatenate(ds)

    def search(self, queries: np.ndarray, radius: int):
        if len(self.h) == 0 or len(queries) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.uint8)
        if len(self.h) < self.BRUTE_LIMIT:
            return self.search_brute(queries, radius)
        if HAVE_NUMBA:
            return self.search_compiled(queries, radius)
        return self.search_mih(queries, radius)


def _h256_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances between rows of two (n, 32) uint8 arrays (row by row)."""
    x = np.bitwise_xor(a, b).view(np.uint64)
    return np.bitwise_count(x).sum(axis=1)


class CatalogIndex:
    """In-memory index of catalogue photos, built from HashResults. ``add``/``remove`` are
    incremental (removal is a tombstone; rows are compacted when a quarter is dead)."""

    def __init__(self, radius: int = RADIUS, thresholds: dict | None = None, use_orb: bool = True):
        self.radius = radius
        self.thresholds = dict(THRESHOLDS if thresholds is None else thresholds)
        if thresholds is None:
            self.thresholds.update(SUB_THRESHOLDS)
        self.use_orb = use_orb
        self._photos: dict[str, HashResult] = {}
        self._ids: list[str] = []  # photo row -> id
        self._row_of: dict[str, int] = {}
        self._hidx = HammingIndex()
        self._h256 = np.zeros((0, 32), np.uint8)
        self._owner = np.zeros(0, np.int64)  # entry -> photo row
        self._kind = np.zeros(0, np.int8)
        self._rect = np.zeros((0, 4), np.float32)
        self._alive = np.zeros(0, bool)

    def __len__(self) -> int:
        return len(self._photos)

    def __contains__(self, photo_id: str) -> bool:
        return photo_id in self._photos

    @property
    def n_hashes(self) -> int:
        return int(self._alive.sum())

    def add(self, photo_id: str, h: HashResult) -> None:
        """Index a catalogue photo (replacing an earlier version). Featureless photos are
        kept out: nothing could be matched against them reliably."""
        if photo_id in self._photos:
            self.remove(photo_id)
        h.ensure_catalog()
        h._gray = h._data = h._integral = None  # the index keeps descriptors, not pixels
        if not h.matchable:
            return
        # the catalogue side stores the upright global hash only: the query carries all 8
        # dihedral variants, so storing them here too would only multiply the comparisons
        rows = np.array([i for i, (k, v) in enumerate(zip(h.kinds, h.variants))
                         if k in CATALOG_KINDS and (k != "global" or v == "identity")], dtype=np.int64)
        if len(rows) == 0:
            return
        prow = len(self._ids)
        self._ids.append(photo_id)
        self._row_of[photo_id] = prow
        self._photos[photo_id] = h
        self._hidx.append(h.h64[rows])
        self._h256 = np.concatenate([self._h256, h.h256[rows]])
        self._owner = np.concatenate([self._owner, np.full(len(rows), prow, np.int64)])
        self._kind = np.concatenate([self._kind, np.array([_KIND_CODE[h.kinds[i]] for i in rows], np.int8)])
        self._rect = np.concatenate([self._rect, h.rects[rows]])
        self._alive = np.concatenate([self._alive, np.ones(len(rows), bool)])

    def remove(self, photo_id: str) -> None:
        prow = self._row_of.pop(photo_id, None)
        self._photos.pop(photo_id, None)
        if prow is None:
            return
        self._alive[self._owner == prow] = False
        if (~self._alive).sum() > 0.25 * len(self._alive):
            self._compact()

    def _compact(self) -> None:
        keep = self._alive
        self._hidx.replace(self._hidx.h[keep])
        self._h256 = self._h256[keep]
        self._owner = self._owner[keep]
        self._kind = self._kind[keep]
        self._rect = self._rect[keep]
        self._alive = self._alive[keep]

    def query(self, h: HashResult, limit: int = 10) -> list[Match]:
        """Catalogue photos that ``h`` (a found image) is a copy of, best first."""
        if not h.matchable or not self._photos:
            return []
        qrows = h.select(QUERY_KINDS)
        qi, ei, d64 = self._hidx.search(h.h64[qrows], self.radius)
        alive = self._alive[ei]
        qi, ei, d64 = qi[alive], ei[alive], d64[alive]
        if len(qi) == 0:
            return []
        qrow = qrows[qi]
        d256 = _h256_distance(h.h256[qrow], self._h256[ei])
        best: dict[str, Match] = {}
        pending: dict[int, list] = {}
        # the best explanation first: distance relative to the pair's threshold plus a small
        # penalty per step away from the simplest pair (a plain re-encode is "phash", not a
        # corner-masked crop; a 10 % crop is "cropped 10%" even when the global hash passes)
        ckinds = [CATALOG_KINDS[k] for k in self._kind[ei]]
        qkinds = [h.kinds[r] for r in qrow]
        rel = np.array([d / self.thresholds.get((c, q), 1e9) if (c, q) in self.thresholds else 1e9
                        for d, c, q in zip(d256.tolist(), ckinds, qkinds)])
        prio = np.array([_PAIR_PRIORITY.get((c, q), 99) for c, q in zip(ckinds, qkinds)])
        for k in np.argsort(rel + 0.15 * prio, kind="stable"):
            e, r, dist = int(ei[k]), int(qrow[k]), int(d256[k])
            ckind, qkind = ckinds[k], qkinds[k]
            pid = self._ids[self._owner[e]]
            limit256 = self.thresholds.get((ckind, qkind))
            if qkind == "sub" and ckind != "crop":
                continue  # a corner-less view is only compared with the same crop of a photo
            if limit256 is not None and dist <= limit256:
                if pid not in best:
                    best[pid] = self._hash_match(pid, e, r, h, dist, int(d64[k]), ckind, qkind)
            elif pid not in best:
                pending.setdefault(self._owner[e], []).append((dist, e, r))
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
        rect_c = [round(float(v), 4) for v in self._rect[e]]
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
        method = {"global": "phash", "tilt": "phash_tilt", "crop": "phash_crop"}[ckind]
        if qkind == "region":
            method += "_region"

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

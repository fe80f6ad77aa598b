"""``hash_image``: every descriptor the matcher stores or queries with, from one decode.

A :class:`HashResult` holds a list of 64-bit DCT hashes (each with a 256-bit companion used
to confirm a candidate), tagged with what they describe:

- ``global``: the whole image after trimming flat borders, in all 8 dihedral variants
  (flips, right-angle rotations). Survives resize, re-encoding, blur, grey, colour and
  gamma shifts (the blocks are histogram-equalised), watermarks, padding and letterbox
  (trimmed).
- ``tilt`` (catalogue): the photo rotated by -3 and +3 degrees, three ways of framing it.
- ``crop`` (catalogue): sub-rectangles of the content on a fixed grid (symmetric crops
  5..25 % per side and asymmetric crops of 0/7/14/21 % per side), so that a found image
  that is a crop of a photo hashes close to one of them.
- ``sub`` (found image): the content without one corner (a logo or badge sits there); each
  equals one ``crop`` rectangle.
- ``region`` (found image): rectangles bounded by long straight edges of grey or colour (a
  photo pasted into a banner, a screenshot frame, non-flat padding).

Catalogue photo and found image go through the same decode (JPEG DCT-scaled to about 192 px,
in YCbCr: the grey plane is hashed, the colour planes only help find outlines) and the same
function; the index decides which kinds it stores and which it queries with.
"""
from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field

import numpy as np

from lightbox.matching import dcthash, verify
from lightbox.matching.decode import BadImage, decode

HASH_VERSION = 3
WORK_SIDE = 192  # decode size (long side); crops of 60 % still give >= 110 px for a 64 px DCT
FEATURE_SIDE = 512  # decode size for ORB features (catalogue at sync, found images on demand)
N_FEATURES = 300  # ORB keypoints kept per image for verification
MIN_QUALITY = 0.12  # below this an image is not matched (flat colour, smooth gradients, icons)

# Catalogue crop grid, fractions removed per side (left, top, right, bottom).
_SYMMETRIC = [(c, c, c, c) for c in (0.05, 0.10, 0.15, 0.20, 0.25)]
_STEPS = (0.0, 0.07, 0.14, 0.21)
_ASYMMETRIC = [s for s in itertools.product(_STEPS, repeat=4) if len(set(s)) > 1]
CROP_GRID: tuple[tuple[float, float, float, float], ...] = tuple(_SYMMETRIC + _ASYMMETRIC)
# Found-image sub-regions that leave out one corner; each is also in CROP_GRID, so an image
# that is the photo plus an overlay in a corner finds the photo's matching crop.
SUB_GRID = ((0.21, 0.21, 0.0, 0.0), (0.0, 0.21, 0.21, 0.0), (0.21, 0.0, 0.0, 0.21), (0.0, 0.0, 0.21, 0.21))


@dataclass
class HashResult:
    """Descriptors of one image. ``rects`` are (x0, y0, x1, y1) as fractions of the
    EXIF-oriented image; ``kinds``/``variants`` name each hash (see module docstring)."""

    width: int
    height: int
    quality: float
    content: tuple[float, float, float, float]
    kinds: list[str]
    variants: list[str]
    rects: np.ndarray  # (n, 4) float32
    h64: np.ndarray  # (n,) uint64
    h256: np.ndarray  # (n, 32) uint8
    kp: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))  # ORB points, px of width x height
    desc: np.ndarray = field(default_factory=lambda: np.zeros((0, 32), np.uint8))  # ORB descriptors
    version: int = HASH_VERSION
    reasons: list[str] = field(default_factory=list)

    _gray = None  # the decoded grey image while this result is fresh (never persisted)
    _data = None  # the encoded bytes while this result is fresh (for ORB features on demand)

    def _append(self, kinds: list[str], variants: list[str], rects_px: np.ndarray, h64: np.ndarray,
                h256: np.ndarray) -> None:
        """Add hashes: their kinds, variant names, rectangles in pixels of the work image,
        64-bit hashes and 256-bit hashes."""
        if not len(kinds):
            return
        self.kinds += list(kinds)
        self.variants += list(variants)
        scale = np.array([self.width, self.height, self.width, self.height], dtype=np.float32)
        self.rects = np.concatenate([self.rects, np.asarray(rects_px, np.float32).reshape(-1, 4) / scale])
        self.h64 = np.concatenate([self.h64, np.asarray(h64, np.uint64)])
        self.h256 = np.concatenate([self.h256, np.asarray(h256, np.uint8).reshape(-1, 32)])

    @property
    def has_catalog_hashes(self) -> bool:
        return "crop" in self.kinds

    def __getstate__(self):
        # pickled results (worker processes) keep the encoded bytes for ORB on demand, not
        # the decoded pixels, which are recomputed from them when needed
        state = dict(self.__dict__)
        state.pop("_gray", None)
        return state

    def _pixels(self):
        if self._gray is None and self._data is not None:
            gray = decode(self._data, long_side=WORK_SIDE, mode="L")
            if max(gray.shape) > WORK_SIDE * 1.25:
                gray = _resample(gray, _fit(gray.shape, WORK_SIDE))
            self._gray = gray
        return self._gray

    def _feature_gray(self, long_side: int) -> np.ndarray:
        """The image at ``long_side`` px on its long side (or as big as it is) for ORB: the
        same scale for every image, whatever size it was published at, so that keypoint
        scales agree between a photo and its copy."""
        gray = self._gray
        if self._data is not None and max(gray.shape) >= WORK_SIDE * 0.9:
            try:
                gray = decode(self._data, long_side=long_side, mode="L")
            except BadImage:
                gray = self._gray
        if max(gray.shape) > long_side:
            gray = _resample(gray, _fit(gray.shape, long_side))
        return gray

    def ensure_features(self) -> bool:
        """Compute ORB features from the retained image if not there yet. False when they
        are missing and cannot be computed (a result loaded without them)."""
        if len(self.kp) == 0 and not getattr(self, "_features_done", False) and self._pixels() is not None:
            self._features_done = True
            gray = self._feature_gray(FEATURE_SIDE)
            kp, desc = verify.orb_features(gray, N_FEATURES)
            self.kp = kp * np.array([self.width / gray.shape[1], self.height / gray.shape[0]], np.float32)
            self.desc = desc
        return len(self.kp) > 0

    def features_in(self, rect_frac) -> tuple[np.ndarray, np.ndarray]:
        """ORB features of one region (x0, y0, x1, y1 fractions) of this image, in the
        coordinates of the whole image: for verifying a photo found inside a banner, where
        most whole-image keypoints sit on the other imagery. The region is brought to the
        scale catalogue features are computed at."""
        if self._pixels() is None:
            return np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
        extent = max(rect_frac[2] - rect_frac[0], rect_frac[3] - rect_frac[1], 0.25)
        gray = self._feature_gray(int(min(2 * FEATURE_SIDE, FEATURE_SIDE / extent)))
        gh, gw = gray.shape
        x0, y0 = int(rect_frac[0] * gw), int(rect_frac[1] * gh)
        x1, y1 = int(np.ceil(rect_frac[2] * gw)), int(np.ceil(rect_frac[3] * gh))
        kp, desc = verify.orb_features(np.ascontiguousarray(gray[y0:y1, x0:x1]), N_FEATURES)
        kp = (kp + np.array([x0, y0], np.float32)) * np.array([self.width / gw, self.height / gh], np.float32)
        return kp, desc

    def ensure_catalog(self) -> None:
        """Add the catalogue-only descriptors (crop grid, tilts, ORB) if they are missing."""
        if self._pixels() is None:
            return
        if not self.has_catalog_hashes:
            g = self._gray.astype(np.float32)
            w, h = self.width, self.height
            c = self.content
            rect = (round(c[0] * w), round(c[1] * h), round(c[2] * w), round(c[3] * h))
            self._append(*_catalog_rows(g, rect))
        self.ensure_features()

    @property
    def matchable(self) -> bool:
        return self.quality >= MIN_QUALITY and len(self.h64) > 0

    def select(self, kinds: tuple[str, ...], variants: tuple[str, ...] | None = None) -> np.ndarray:
        """Row numbers of the hashes of these kinds (and variants)."""
        return np.array(
            [i for i, (k, v) in enumerate(zip(self.kinds, self.variants))
             if k in kinds and (variants is None or v in variants)],
            dtype=np.int64,
        )

    def to_record(self) -> dict:
        """A JSON-able dict (what matching.photo_hashes stores in its ``descriptor`` column)."""
        return {
            "version": self.version,
            "width": self.width,
            "height": self.height,
            "quality": self.quality,
            "content": [round(float(v), 5) for v in self.content],
            "kinds": list(self.kinds),
            "variants": list(self.variants),
            "rects": np.round(self.rects, 5).tolist(),
            "h64": [f"{int(v):016x}" for v in self.h64],
            "h256": base64.b64encode(np.ascontiguousarray(self.h256, dtype=np.uint8).tobytes()).decode(),
            "kp": base64.b64encode(np.round(self.kp * 4).astype(np.uint16).tobytes()).decode(),
            "desc": base64.b64encode(np.ascontiguousarray(self.desc, dtype=np.uint8).tobytes()).decode(),
            "reasons": list(self.reasons),
        }

    @classmethod
    def from_record(cls, record: dict) -> "HashResult":
        n = len(record["h64"])
        h256 = np.frombuffer(base64.b64decode(record["h256"]), dtype=np.uint8).reshape(n, 32).copy()
        return cls(
            width=int(record["width"]),
            height=int(record["height"]),
            quality=float(record["quality"]),
            content=tuple(record["content"]),
            kinds=list(record["kinds"]),
            variants=list(record["variants"]),
            rects=np.asarray(record["rects"], dtype=np.float32).reshape(n, 4),
            h64=np.array([int(v, 16) for v in record["h64"]], dtype=np.uint64),
            h256=h256,
            kp=np.frombuffer(base64.b64decode(record.get("kp", "")), dtype=np.uint16).reshape(-1, 2).astype(np.float32) / 4,
            desc=np.frombuffer(base64.b64decode(record.get("desc", "")), dtype=np.uint8).reshape(-1, 32).copy(),
            version=int(record.get("version", HASH_VERSION)),
            reasons=list(record.get("reasons", [])),
        )


def hash_image(data: bytes, catalog: bool = False) -> HashResult:
    """Hash an encoded image (bytes); raises :class:`BadImage` for anything not hashable.

    Found images and catalogue photos go through the same decode and the same global and
    region hashes. ``catalog=True`` also computes what only the catalogue side stores (crop
    grid, tilted variants, ORB features); :meth:`CatalogIndex.add` computes them itself when
    they are missing, and the ORB features of a found image are computed only when a
    candidate needs verification, so the common no-match path stays cheap."""
    ycc = decode(data, long_side=WORK_SIDE, mode="YCbCr")
    if max(ycc.shape[:2]) > WORK_SIDE * 1.25:  # DCT scaling stops at 1/8, and PNG/WebP are not scaled
        ycc = _resample(ycc, _fit(ycc.shape, WORK_SIDE))  # the three planes in one pass
    h = hash_gray(np.ascontiguousarray(ycc[:, :, 0]), (ycc[:, :, 1], ycc[:, :, 2]))
    h._data = data
    if catalog:
        h.ensure_catalog()
    return h


def _resample(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``a`` resized to ``shape`` (rows, columns), area-averaged when reducing: bilinear to
    twice the size, then an exact 2x2 box (OpenCV's area filter is slow for other ratios;
    a reduction by less than 2 is bilinear alone, already an average of neighbours)."""
    import cv2

    h, w = a.shape[:2]
    if (h, w) == tuple(shape):
        return a
    size = (int(shape[1]), int(shape[0]))
    if shape[0] * 2 >= h and shape[1] * 2 >= w:
        return cv2.resize(a, size, interpolation=cv2.INTER_LINEAR)
    double = cv2.resize(a, (2 * size[0], 2 * size[1]), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(double, size, interpolation=cv2.INTER_AREA)


def _fit(shape: tuple[int, int], side: int) -> tuple[int, int]:
    h, w = shape[:2]
    s = side / max(h, w)
    return max(1, round(h * s)), max(1, round(w * s))


def hash_gray(gray: np.ndarray, chroma: tuple[np.ndarray, np.ndarray] | None = None) -> HashResult:
    """Global, corner-masked and region hashes of a decoded grey image (see :func:`hash_image`);
    ``chroma`` (the Cb and Cr planes, each the size of ``gray``) helps find the outline of
    pasted photos."""
    if max(gray.shape) > WORK_SIDE * 1.25:  # DCT scaling stops at 1/8, and PNG/WebP are not scaled
        shape = _fit(gray.shape, WORK_SIDE)
        gray = _resample(gray, shape)
        chroma = None if chroma is None else [_resample(np.ascontiguousarray(c), shape) for c in chroma]
    h, w = gray.shape
    g = gray.astype(np.float32)
    # layout analysis (flat borders, straight edges) at the same resolution as the hashes:
    # a coarser thumbnail misplaces a pasted photo's outline by a pixel, enough to cost
    # composites (benchmarked at 128, 192 and 256 px)
    x0, y0, x1, y1 = dcthash.trim_borders(g)
    cw, ch = x1 - x0, y1 - y0
    rects = [(x0, y0, x1, y1)]
    kinds = ["global"]
    for (l, t, r, b) in SUB_GRID:  # the image without one corner (logos, badges sit there)
        rects.append((x0 + int(round(l * cw)), y0 + int(round(t * ch)), x1 - int(round(r * cw)), y1 - int(round(b * ch))))
        kinds.append("sub")
    for rect in region_proposals(gray, (x0, y0, x1, y1), chroma):
        rects.append(rect)
        kinds.append("region")
    block_of, variant_of, h64, h256, blocks = dcthash.hash_rects(g, rects, [k == "global" for k in kinds])
    result = HashResult(
        width=w, height=h, quality=dcthash.quality(blocks[0], (ch, cw)),
        content=(x0 / w, y0 / h, x1 / w, y1 / h),
        kinds=[], variants=[], rects=np.zeros((0, 4), np.float32),
        h64=np.zeros(0, np.uint64), h256=np.zeros((0, 32), np.uint8),
    )
    result._gray = gray
    px = np.asarray(rects, np.float32)[block_of]
    result._append([kinds[i] for i in block_of], [dcthash.VARIANT_NAMES[v] for v in variant_of], px, h64, h256)
    return result


def _catalog_rows(g: np.ndarray, content_rect):
    """The catalogue-only hashes: the crop grid and the tilted views of the content."""
    x0, y0, x1, y1 = content_rect
    cw, ch = x1 - x0, y1 - y0
    rects = [(x0 + int(round(l * cw)), y0 + int(round(t * ch)), x1 - int(round(r * cw)), y1 - int(round(b * ch)))
             for (l, t, r, b) in CROP_GRID]
    _, _, h64, h256, _ = dcthash.hash_rects(g, rects, np.zeros(len(rects), bool))
    kinds = ["crop"] * len(rects)
    variants = ["identity"] * len(rects)
    content = g[y0:y1, x0:x1]
    tilted = [(angle, frame, _rotate(content, angle, frame)) for angle in TILTS for frame in ("zoom", "same", "expand")]
    blocks = np.stack([dcthash.block64(r, (0, 0, r.shape[1], r.shape[0])) for _, _, r in tilted])
    _, _, t64, t256 = dcthash.hash_coeffs(dcthash.dct16(dcthash.equalize(blocks)), np.zeros(len(tilted), bool))
    kinds += ["tilt"] * len(tilted)
    variants += [f"rotate_{angle:+g}deg_{frame}" for angle, frame, _ in tilted]
    px = np.asarray(rects + [content_rect] * len(tilted), np.float32)
    return kinds, variants, px, np.concatenate([h64, t64]), np.concatenate([h256, t256])


TILTS = (-3.0, 3.0)


def _rotate(gray: np.ndarray, angle: float, frame: str) -> np.ndarray:
    """``gray`` rotated by ``angle`` degrees about its centre, the way a re-publisher does it:
    zoomed so no corner is empty ("zoom"), on the same canvas ("same") or on the enlarged
    canvas that holds the whole photo ("expand"); empty corners are mid-grey."""
    import cv2

    h, w = gray.shape
    a = np.radians(abs(angle))
    zoom = (np.cos(a) + np.sin(a) * max(w / h, h / w)) if frame == "zoom" else 1.0
    ow, oh = w, h
    if frame == "expand":
        ow = int(round(w * np.cos(a) + h * np.sin(a)))
        oh = int(round(h * np.cos(a) + w * np.sin(a)))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, zoom)
    m[0, 2] += (ow - w) / 2
    m[1, 2] += (oh - h) / 2
    return cv2.warpAffine(gray, m, (ow, oh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=128)


MIN_REGION_AREA = 0.30  # of the content: a pasted photo must cover at least this much
MAX_REGIONS = 8
MIN_LINE = 0.25  # a candidate side's edge run covers at least this share of the content
LINES_PER_AXIS = 6
MIN_SIDE_SUPPORT = 0.6  # every side of a proposal is at least this much edge


def _pick_lines(length: np.ndarray, end: np.ndarray, extent: int) -> list[tuple[int, int, int]]:
    """(position, run start, run end) of the longest straight edge runs: at least
    ``MIN_LINE`` of ``extent``, at most ``LINES_PER_AXIS``, 3 px apart, the border lines (and
    their 1 px wobble) excluded, as they are candidates anyway."""
    need = int(np.ceil(MIN_LINE * extent))
    length = np.array(length, np.int64)
    length[:2] = length[-2:] = 0
    picked: list[tuple[int, int, int]] = []
    for k in np.argsort(-length, kind="stable"):
        if length[k] < need or len(picked) >= LINES_PER_AXIS:
            break
        if all(abs(int(k) - p[0]) > 2 for p in picked):
            picked.append((int(k), int(end[k] - length[k]), int(end[k])))
    return sorted(picked)


def _runs(mask: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Length and end of the longest edge run along every column (``axis=1``: runs down
    it) or row (``axis=0``) of an edge map, measured only where an erosion by a line of
    ``MIN_LINE`` of the image shows such a run can exist (elsewhere 0): numpy's way of
    skipping the lines that cannot qualify."""
    import cv2

    extent = mask.shape[0] if axis == 1 else mask.shape[1]
    need = int(np.ceil(MIN_LINE * extent))
    kernel = np.ones((need, 1) if axis == 1 else (1, need), np.uint8)
    survivors = np.flatnonzero(cv2.erode(mask, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0).max(axis=0 if axis == 1 else 1))
    n = mask.shape[1] if axis == 1 else mask.shape[0]
    length, end = np.zeros(n, np.int64), np.zeros(n, np.int64)
    if len(survivors):
        length[survivors], end[survivors] = dcthash.longest_runs(mask[:, survivors] if axis == 1 else mask[survivors, :].T)
    return length, end


def edge_layout(content: np.ndarray, chroma=None):
    """(v, h, vertical lines, horizontal lines) of a uint8 grey region and its colour planes:
    the edge maps of :func:`dcthash.edge_maps` and the lines picked from them."""
    ch, cw = content.shape
    v, h = dcthash.edge_maps(content, chroma)
    (vlen, vend), (hlen, hend) = _runs(v, axis=1), _runs(h, axis=0)
    return v, h, _pick_lines(vlen, vend, ch), _pick_lines(hlen, hend, cw)


def region_proposals(gray: np.ndarray, content_rect, chroma=None) -> list[tuple[int, int, int, int]]:
    """Rectangles inside the content whose four sides lie on strong straight edges (or the
    content border): where a photo pasted into a banner, a screenshot or a frame sits. The
    candidate sides are the long edges and the ends of the perpendicular edges' runs; each
    rectangle is scored by how much of its outline is edge, the best ``MAX_REGIONS`` kept.
    The whole content itself is not repeated."""
    x0, y0, x1, y1 = content_rect
    content = gray[y0:y1, x0:x1]
    ch, cw = content.shape
    if ch < 16 or cw < 16:
        return []
    cc = None if chroma is None else [np.asarray(c)[y0:y1, x0:x1] for c in chroma]
    vw, hw, vlines, hlines = edge_layout(content, cc)  # maps (ch, cw+1), (ch+1, cw)
    xs = _merge([v[0] for v in vlines], [e for hl in hlines for e in hl[1:]], cw)
    ys = _merge([hl[0] for hl in hlines], [e for v in vlines for e in v[1:]], ch)
    # cumulative edge counts along the candidate sides only: cv[y, i] = edge pixels of column
    # xs[i] above row y, chh[i, x] = edge pixels of row ys[i] left of column x
    cv = np.zeros((ch + 1, len(xs)), np.int32)
    np.cumsum(vw[:, xs], axis=0, dtype=np.int32, out=cv[1:])
    chh = np.zeros((len(ys), cw + 1), np.int32)
    np.cumsum(hw[ys, :], axis=1, dtype=np.int32, out=chh[:, 1:])
    xsa, ysa = np.asarray(xs, np.int64), np.asarray(ys, np.int64)
    xi = np.transpose(np.triu_indices(len(xs), 1))  # pairs of candidate sides, as indexes
    yi = np.transpose(np.triu_indices(len(ys), 1))
    xi = xi[xsa[xi[:, 1]] - xsa[xi[:, 0]] >= 0.25 * cw]
    yi = yi[ysa[yi[:, 1]] - ysa[yi[:, 0]] >= 0.25 * ch]
    if len(xi) == 0 or len(yi) == 0:
        return []
    a, b = xsa[xi[:, 0]], xsa[xi[:, 1]]  # left and right of each column pair
    c, d = ysa[yi[:, 0]], ysa[yi[:, 1]]  # top and bottom of each row pair
    # share of edge along every candidate side: column xs[i] between rows c..d, row ys[j]
    # between columns a..b; a rectangle's support is the least of its four sides'
    col_support = (cv[d, :] - cv[c, :]) / (d - c)[:, None]  # (row pairs, columns)
    row_support = (chh[:, b] - chh[:, a]) / (b - a)[None, :]  # (rows, column pairs)
    support = np.minimum(np.minimum(col_support[:, xi[:, 0]], col_support[:, xi[:, 1]]),
                         np.minimum(row_support[yi[:, 0], :], row_support[yi[:, 1], :]))  # (row pairs, column pairs)
    area = np.outer(d - c, b - a) / float(cw * ch)
    whole = np.outer((c == 0) & (d == ch), (a == 0) & (b == cw))
    ok = (area >= MIN_REGION_AREA) & (support >= MIN_SIDE_SUPPORT) & ~whole
    iy, ix = np.nonzero(ok)
    score = support[iy, ix] + 0.1 * area[iy, ix]
    best = np.argsort(-score, kind="stable")[:MAX_REGIONS]
    return [(x0 + int(a[i]), y0 + int(c[j]), x0 + int(b[i]), y0 + int(d[j])) for j, i in zip(iy[best], ix[best])]


def _merge(lines, ends, limit: int, gap: int = 2) -> list[int]:
    """Candidate side positions in 0..limit: the border, the lines, then the run ends that
    are more than ``gap`` px from every position already kept (an end a pixel off a line
    would otherwise push the line itself out)."""
    out = sorted({0, limit} | {int(min(max(v, 0), limit)) for v in lines})
    for v in sorted({int(min(max(v, 0), limit)) for v in ends}):
        if all(abs(v - u) > gap for u in out):
            out.append(v)
    return sorted(out)

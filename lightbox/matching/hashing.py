"""``hash_image``: every descriptor the matcher stores or queries with, from one decode.

A :class:`HashResult` holds a list of 64-bit DCT hashes (each with a 256-bit companion used
to confirm a candidate), tagged with what they describe:

- ``global``: the whole image after trimming flat borders, in all 8 dihedral variants
  (flips, right-angle rotations). Survives resize, re-encoding, blur, grey, colour shifts,
  watermarks, flips, 90/180 degree rotation, padding and letterbox (trimmed), small rotations.
- ``crop``: sub-rectangles of the content on a fixed grid (symmetric crops 5..25 % per side
  and asymmetric crops). Indexed for catalogue photos so that a found image that is a crop
  of a photo hashes close to one of them.
- ``region``: rectangles of the found image bounded by long straight edges (a photo pasted
  into a banner, a screenshot frame, non-flat padding). Queried against catalogue hashes.

Catalogue photo and found image go through the same function; the index decides which
kinds it stores and which it queries with.
"""
from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field

import numpy as np

from lightbox.matching import dcthash, verify
from lightbox.matching.decode import BadImage, decode

HASH_VERSION = 2
WORK_SIDE = 256  # decode size (long side); crops of 60 % still give >= 150 px for a 64 px DCT
ANALYSIS_SIDE = 192  # thumbnail for border trimming and straight-edge detection
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
    _integral = None  # summed-area table of _gray (catalogue crops reuse it)

    def _append(self, rows) -> None:
        if not rows:
            return
        self.kinds += [r[0] for r in rows]
        self.variants += [r[1] for r in rows]
        rects = np.array([r[2] for r in rows], dtype=np.float32) / np.array(
            [self.width, self.height, self.width, self.height], dtype=np.float32)
        self.rects = np.concatenate([self.rects, rects])
        self.h64 = np.concatenate([self.h64, np.array([r[3] for r in rows], dtype=np.uint64)])
        self.h256 = np.concatenate([self.h256, np.frombuffer(b"".join(r[4] for r in rows), np.uint8).reshape(-1, 32)])

    @property
    def has_catalog_hashes(self) -> bool:
        return "crop" in self.kinds

    def __getstate__(self):
        # pickled results (worker processes) keep the encoded bytes for ORB on demand, not
        # the decoded pixels, which are recomputed from them when needed
        state = dict(self.__dict__)
        state.pop("_gray", None)
        state.pop("_integral", None)
        return state

    def _pixels(self):
        if self._gray is None and self._data is not None:
            gray = decode(self._data, long_side=WORK_SIDE, mode="L")
            if max(gray.shape) > WORK_SIDE * 1.25:
                import cv2

                s = WORK_SIDE / max(gray.shape)
                gray = cv2.resize(gray, (max(1, round(gray.shape[1] * s)), max(1, round(gray.shape[0] * s))),
                                  interpolation=cv2.INTER_AREA)
            self._gray = gray
        return self._gray

    def ensure_features(self) -> bool:
        """Compute ORB features from the retained image if not there yet. False when they
        are missing and cannot be computed (a result loaded without them)."""
        if len(self.kp) == 0 and not getattr(self, "_features_done", False) and self._pixels() is not None:
            self._features_done = True
            gray = self._gray
            if self._data is not None and max(gray.shape) >= WORK_SIDE * 0.9:
                try:
                    gray = decode(self._data, long_side=FEATURE_SIDE, mode="L")
                except BadImage:
                    gray = self._gray
            kp, desc = verify.orb_features(gray, N_FEATURES)
            self.kp = kp * np.array([self.width / gray.shape[1], self.height / gray.shape[0]], np.float32)
            self.desc = desc
        return len(self.kp) > 0

    def features_in(self, rect_frac) -> tuple[np.ndarray, np.ndarray]:
        """ORB features of one region (x0, y0, x1, y1 fractions) of this image, in the
        coordinates of the whole image: for verifying a photo found inside a banner, where
        most whole-image keypoints sit on the other imagery."""
        if self._pixels() is None:
            return np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
        gray = self._gray
        if self._data is not None and max(gray.shape) >= WORK_SIDE * 0.9:
            try:
                gray = decode(self._data, long_side=FEATURE_SIDE, mode="L")
            except BadImage:
                gray = self._gray
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
            self._append(_catalog_rows(g, rect, getattr(self, "_integral", None)))
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
    gray = decode(data, long_side=WORK_SIDE, mode="L")
    h = hash_gray(gray)
    h._data = data
    if catalog:
        h.ensure_catalog()
    return h


def hash_gray(gray: np.ndarray) -> HashResult:
    """Global and region hashes of a decoded grey image (see :func:`hash_image`)."""
    import cv2

    h, w = gray.shape
    if max(h, w) > WORK_SIDE * 1.25:  # DCT scaling stops at 1/8, and PNG/WebP are not scaled
        s = WORK_SIDE / max(h, w)
        gray = cv2.resize(gray, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        h, w = gray.shape
    g = gray.astype(np.float32)
    # layout analysis (borders, straight edges) on a thumbnail: it only needs coarse lines
    if max(h, w) > ANALYSIS_SIDE:
        s = ANALYSIS_SIDE / max(h, w)
        thumb = cv2.resize(g, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    else:
        thumb = g
    th, tw = thumb.shape
    sx, sy = w / tw, h / th
    tx0, ty0, tx1, ty1 = dcthash.trim_borders(thumb)
    x0, y0 = int(np.floor(tx0 * sx)), int(np.floor(ty0 * sy))
    x1, y1 = min(w, int(np.ceil(tx1 * sx))), min(h, int(np.ceil(ty1 * sy)))
    if (tx0, ty0, tx1, ty1) != (0, 0, tw, th):  # refine the trim at full resolution
        rx0, ry0, rx1, ry1 = dcthash.trim_borders(g[y0:y1, x0:x1])
        x0, y0, x1, y1 = x0 + rx0, y0 + ry0, x0 + rx1, y0 + ry1
    content = g[y0:y1, x0:x1]
    result = HashResult(
        width=w, height=h, quality=dcthash.quality(content),
        content=(x0 / w, y0 / h, x1 / w, y1 / h),
        kinds=[], variants=[], rects=np.zeros((0, 4), np.float32),
        h64=np.zeros(0, np.uint64), h256=np.zeros((0, 32), np.uint8),
    )
    result._gray = gray
    rows = []
    content_rect = (x0, y0, x1, y1)
    integral = dcthash.Integral(g)
    result._integral = integral
    for name, v64, v256 in dcthash.hashes_of_block(integral.block(x0, y0, x1, y1)):
        rows.append(("global", name, content_rect, v64, v256))
    cw, ch = x1 - x0, y1 - y0
    for (l, t, r, b) in SUB_GRID:  # the image without one corner (logos, badges sit there)
        rect = (x0 + int(round(l * cw)), y0 + int(round(t * ch)), x1 - int(round(r * cw)), y1 - int(round(b * ch)))
        for name, v64, v256 in dcthash.hashes_of_block(integral.block(*rect), dcthash.DIHEDRAL[:1]):
            rows.append(("sub", name, rect, v64, v256))
    tcontent = (int(round(x0 / sx)), int(round(y0 / sy)), int(round(x1 / sx)), int(round(y1 / sy)))
    for (a, b, c, d) in region_proposals(thumb, tcontent):
        rect = (int(round(a * sx)), int(round(b * sy)), min(w, int(round(c * sx))), min(h, int(round(d * sy))))
        block = integral.block(*rect)
        for name, v64, v256 in dcthash.hashes_of_block(block, dcthash.DIHEDRAL[:1]):
            rows.append(("region", name, rect, v64, v256))
    result._append(rows)
    return result


def _catalog_rows(g: np.ndarray, content_rect, integral=None) -> list:
    x0, y0, x1, y1 = content_rect
    content = g[y0:y1, x0:x1]
    cw, ch = x1 - x0, y1 - y0
    integral = integral or dcthash.Integral(g)
    rows = []
    for (l, t, r, b) in CROP_GRID:
        rx0, ry0 = x0 + int(round(l * cw)), y0 + int(round(t * ch))
        rx1, ry1 = x1 - int(round(r * cw)), y1 - int(round(b * ch))
        block = integral.block(rx0, ry0, rx1, ry1)
        (_, v64, v256), = dcthash.hashes_of_block(block, dcthash.DIHEDRAL[:1])
        rows.append(("crop", "identity", (rx0, ry0, rx1, ry1), v64, v256))
    for angle in TILTS:
        for frame in ("zoom", "same", "expand"):
            rotated = _rotate(content, angle, frame)
            block = dcthash.Integral(rotated).block(0, 0, rotated.shape[1], rotated.shape[0])
            (_, v64, v256), = dcthash.hashes_of_block(block, dcthash.DIHEDRAL[:1])
            rows.append(("tilt", f"rotate_{angle:+g}deg_{frame}", content_rect, v64, v256))
    return rows


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
MAX_REGIONS = 16


def region_proposals(gray: np.ndarray, content_rect) -> list[tuple[int, int, int, int]]:
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
    vw, hw = dcthash.edge_maps(content)
    vlines = dcthash.edge_lines(content, axis=1, maps=(vw, hw))
    hlines = dcthash.edge_lines(content, axis=0, maps=(vw, hw))
    xs = _merge([0, cw] + [v[0] for v in vlines] + [e for hl in hlines for e in hl[1:]], cw)
    ys = _merge([0, ch] + [hl[0] for hl in hlines] + [e for v in vlines for e in v[1:]], ch)
    cv = np.vstack([np.zeros((1, vw.shape[1]), np.int32), np.cumsum(vw, axis=0, dtype=np.int32)])  # (ch+1, cw+1)
    chh = np.hstack([np.zeros((hw.shape[0], 1), np.int32), np.cumsum(hw, axis=1, dtype=np.int32)])  # (ch+1, cw+1)
    xp = np.array([(a, b) for a, b in itertools.combinations(xs, 2) if b - a >= 0.25 * cw], np.int64).reshape(-1, 2)
    yp = np.array([(c, d) for c, d in itertools.combinations(ys, 2) if d - c >= 0.25 * ch], np.int64).reshape(-1, 2)
    if len(xp) == 0 or len(yp) == 0:
        return []
    a, b = xp[:, 0][:, None], xp[:, 1][:, None]  # (nx, 1)
    c, d = yp[:, 0][None, :], yp[:, 1][None, :]  # (1, ny)
    area = (b - a) * (d - c) / float(cw * ch)
    left = (cv[d, a] - cv[c, a]) / (d - c)
    right = (cv[d, b] - cv[c, b]) / (d - c)
    top = (chh[c, b] - chh[c, a]) / (b - a)
    bottom = (chh[d, b] - chh[d, a]) / (b - a)
    support = np.minimum(np.minimum(left, right), np.minimum(top, bottom))
    whole = (a == 0) & (b == cw) & (c == 0) & (d == ch)
    ok = (area >= MIN_REGION_AREA) & (support >= 0.6) & ~whole
    ix, iy = np.nonzero(ok)
    score = support[ix, iy] + 0.1 * area[ix, iy]
    best = np.argsort(-score, kind="stable")[:MAX_REGIONS]
    return [(x0 + int(xp[i, 0]), y0 + int(yp[j, 0]), x0 + int(xp[i, 1]), y0 + int(yp[j, 1]))
            for i, j in zip(ix[best], iy[best])]


def _merge(values, limit: int, gap: int = 2) -> list[int]:
    out: list[int] = []
    for v in sorted(set(int(min(max(v, 0), limit)) for v in values)):
        if not out or v - out[-1] > gap:
            out.append(v)
    if out[-1] != limit:
        out[-1] = limit if limit - out[-1] <= gap else out[-1]
        if out[-1] != limit:
            out.append(limit)
    return out

"""DCT perceptual hashes (pHash/PDQ family) of image regions, their 8 dihedral variants,
border trimming, region proposals and the quality score. Pure numpy/OpenCV on the grey
array from :mod:`lightbox.matching.decode`.

A region is resized (area filter) to 64x64, transformed with a 2-D DCT, and the 8x8 block
of lowest frequencies without the DC row and column (rows/cols 1..8) is thresholded at its
median: 64 bits. The 16x16 block (rows/cols 1..16) gives a 256-bit hash used to confirm.
Flips and right-angle rotations act on DCT coefficients exactly (a horizontal flip negates
odd columns, a transpose transposes), so the 8 dihedral variants cost no extra resize/DCT.
"""
from __future__ import annotations

import functools

import numpy as np

SIZE = 64
_BITS64 = np.uint64(1) << np.arange(64, dtype=np.uint64)

# The 8 dihedral transforms as (transpose, flip_columns, flip_rows) applied in that order to
# the found image's coefficient block; names say what was done to the catalogue photo.
DIHEDRAL = (
    ("identity", False, False, False),
    ("flip_horizontal", False, True, False),
    ("flip_vertical", False, False, True),
    ("rotate_180", False, True, True),
    ("transpose", True, False, False),
    ("rotate_90", True, True, False),
    ("rotate_270", True, False, True),
    ("transverse", True, True, True),
)


def dct_block(gray_region: np.ndarray) -> np.ndarray:
    """The 64x64 DCT of a grey region (any size >= 1 px) resized with an area filter."""
    import cv2

    region = np.ascontiguousarray(gray_region, dtype=np.float32)
    h, w = region.shape
    interp = cv2.INTER_AREA if (h >= SIZE and w >= SIZE) else cv2.INTER_LINEAR
    small = cv2.resize(region, (SIZE, SIZE), interpolation=interp)
    return cv2.dct(small)


class Integral:
    """Region blocks of one grey image: ``block(x0, y0, x1, y1)`` is the 64x64 DCT of the
    rectangle (integer pixel bounds, area-averaged resize). One object per image so that
    every region of it goes through the same resampling (a summed-area table was tried:
    slower than OpenCV's INTER_AREA at these sizes)."""

    def __init__(self, gray: np.ndarray):
        self.gray = np.asarray(gray, dtype=np.float32)
        self.h, self.w = self.gray.shape

    def block(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        x0, y0 = max(0, int(round(x0))), max(0, int(round(y0)))
        x1, y1 = min(self.w, max(x0 + 1, int(round(x1)))), min(self.h, max(y0 + 1, int(round(y1))))
        return dct_block(self.gray[y0:y1, x0:x1])


@functools.lru_cache(maxsize=8)
def _sign_matrix(n: int, start: int = 1) -> np.ndarray:
    return np.where((np.arange(start, start + n) % 2) == 1, -1.0, 1.0).astype(np.float32)


def dihedral_coeffs(coeffs: np.ndarray, transpose: bool, flip_cols: bool, flip_rows: bool) -> np.ndarray:
    """Coefficients (rows/cols 1..n of a DCT) of the flipped/rotated image."""
    c = coeffs.T if transpose else coeffs
    n = c.shape[0]
    s = _sign_matrix(n)
    if flip_cols:
        c = c * s[None, :]
    if flip_rows:
        c = c * s[:, None]
    return c


def bits_of(coeffs: np.ndarray) -> np.ndarray:
    flat = coeffs.ravel()
    return flat > np.median(flat)


def pack64(bits: np.ndarray) -> int:
    return int(np.bitwise_or.reduce(np.where(bits[:64], _BITS64, np.uint64(0))))


def pack_bytes(bits: np.ndarray) -> bytes:
    return np.packbits(bits.astype(np.uint8)).tobytes()


def hashes_of_block(dct: np.ndarray, variants=DIHEDRAL) -> list[tuple[str, int, bytes]]:
    """(variant name, 64-bit hash, 256-bit hash bytes) for each dihedral variant; all
    variants thresholded at their own median in one vectorised pass."""
    c8 = dct[1:9, 1:9]
    c16 = dct[1:17, 1:17]
    s8 = np.stack([dihedral_coeffs(c8, t, fc, fr) for _, t, fc, fr in variants]).reshape(len(variants), 64)
    s16 = np.stack([dihedral_coeffs(c16, t, fc, fr) for _, t, fc, fr in variants]).reshape(len(variants), 256)
    b8 = s8 > _median_rows(s8)
    b16 = s16 > _median_rows(s16)
    h64 = np.packbits(b8, axis=1, bitorder="little").view("<u8").ravel()
    h256 = np.packbits(b16, axis=1)
    return [(v[0], int(h64[i]), h256[i].tobytes()) for i, v in enumerate(variants)]


def _median_rows(a: np.ndarray) -> np.ndarray:
    """Row medians of an (n, even) array (np.median without its overhead)."""
    half = a.shape[1] // 2
    part = np.partition(a, (half - 1, half), axis=1)
    return ((part[:, half - 1] + part[:, half]) * 0.5)[:, None]


def quality(gray: np.ndarray) -> float:
    """0..1: how much structure there is to match (PDQ's gradient-sum idea). Flat colour,
    smooth gradients and tiny icons score near 0; ordinary photos score 0.5..1."""
    import cv2

    h, w = gray.shape
    if min(h, w) < 16:
        return 0.0
    small = cv2.resize(np.asarray(gray, dtype=np.float32), (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    gx = np.abs(np.diff(small, axis=1)).mean()
    gy = np.abs(np.diff(small, axis=0)).mean()
    grad = float(gx + gy)  # mean absolute step in grey levels
    size_factor = min(1.0, min(h, w) / 64.0)
    return round(min(1.0, grad / 12.0) * size_factor, 4)


def trim_borders(gray: np.ndarray, tol: float = 10.0, max_frac: float = 0.45) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the content after removing uniform borders (letterbox, padding,
    screenshot frames) of any flat colour. A line is border when it is flat (small spread)
    and close to the colour of the outermost line on that side."""
    g = np.asarray(gray, dtype=np.float32)
    h, w = g.shape

    def run(lines: np.ndarray, limit: int) -> int:
        # lines: (n, len) from the outside in; count the flat lines before the first busy
        # one, looking at a few lines first (most images have no border at all)
        if limit < 1:
            return 0
        ref = float(np.median(lines[0]))
        done, step = 0, 4
        while done < limit:
            block = lines[done:min(limit, done + step)]
            off = (np.abs(block - ref) > tol).mean(axis=1)  # share of pixels off the border colour
            busy = np.nonzero(off > 0.05)[0]
            if len(busy):
                return done + int(busy[0])
            done += len(block)
            step *= 2
        return limit

    top = run(g, int(h * max_frac))
    bottom = run(g[::-1], int(h * max_frac))
    left = run(g.T, int(w * max_frac))
    right = run(g.T[::-1], int(w * max_frac))
    x0, y0, x1, y1 = left, top, w - right, h - bottom
    if x1 - x0 < 8 or y1 - y0 < 8:
        return 0, 0, w, h
    return x0, y0, x1, y1


def edge_maps(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boolean maps of strong steps: ``v[y, x]`` between columns x-1 and x (vertical edges),
    ``h[y, x]`` between rows y-1 and y (horizontal edges), shape (H+1, W+1) with the
    content border marked as edge. Small gaps along an edge are bridged (a pasted photo's
    edge is weak where its colour happens to match the background)."""
    g = np.asarray(gray, dtype=np.float32)
    H, W = g.shape
    sx = np.abs(g[:, 1:] - g[:, :-1])
    sy = np.abs(g[1:, :] - g[:-1, :])
    thr = max(10.0, float(np.percentile(np.concatenate([sx[::2, ::2].ravel(), sy[::2, ::2].ravel()]), 85)))
    v = np.zeros((H, W + 1), bool)
    v[:, 1:W] = sx > thr
    v[:, 0] = v[:, W] = True
    h = np.zeros((H + 1, W), bool)
    h[1:H, :] = sy > thr
    h[0, :] = h[H, :] = True
    # a 1-px wobble across the edge, and gaps of up to 2 px along it
    vw = v.copy()
    vw[:, 1:] |= v[:, :-1]
    vw[:, :-1] |= v[:, 1:]
    hw = h.copy()
    hw[1:, :] |= h[:-1, :]
    hw[:-1, :] |= h[1:, :]
    for _ in range(2):
        vw[1:, :] |= vw[:-1, :]
        hw[:, 1:] |= hw[:, :-1]
    return vw, hw


def edge_lines(gray: np.ndarray, axis: int, min_frac: float = 0.25, k: int = 6, maps=None) -> list[tuple[int, int, int]]:
    """Long straight edges: (position, run start, run end) for vertical lines (axis=1: x,
    y0, y1) or horizontal lines (axis=0: y, x0, x1), the ``k`` longest runs of at least
    ``min_frac`` of the image, the border excluded. Pasted rectangles (composites, frames,
    screenshots) make such lines; photos rarely do."""
    vw, hw = maps if maps is not None else edge_maps(gray)
    m = vw if axis == 1 else hw.T  # (along, positions)
    n_along = m.shape[0]
    c = np.cumsum(m, axis=0, dtype=np.int32)
    run = c - np.maximum.accumulate(np.where(m, 0, c), axis=0)
    best = run.max(axis=0)
    ends = run.argmax(axis=0)
    score = best / max(n_along, 1)
    score[0] = score[-1] = 0  # the border is always a candidate anyway
    picked: list[tuple[int, int, int]] = []
    for idx in np.argsort(-score, kind="stable"):
        if score[idx] < min_frac or len(picked) >= k:
            break
        pos = int(idx)
        if all(abs(pos - p[0]) > 2 for p in picked):
            end = int(ends[idx]) + 1
            picked.append((pos, end - int(best[idx]), end))
    return sorted(picked)


def _longest_runs(mask: np.ndarray) -> np.ndarray:
    """Longest run of True down each column of a 2-D boolean array (vectorised: the running
    count minus the count at the last False above)."""
    c = np.cumsum(mask, axis=0, dtype=np.int32)
    reset = np.maximum.accumulate(np.where(mask, 0, c), axis=0)
    return (c - reset).max(axis=0)

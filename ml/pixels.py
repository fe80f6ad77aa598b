"""Pixel features of a photo at the scale where an inspector sees its defects (100 % zoom).

An inspector checks focus and noise at native resolution, in the parts of the frame that
carry detail, and exposure and compression over the whole frame. This module does the same:

1. **Decode the luminance only, at native resolution.** Pillow's ``draft("L", size)`` asks
   libjpeg for the Y channel alone: no chroma upsampling or colour conversion, about half the
   cost of an RGB decode (a 24-megapixel JPEG: ~31 ms instead of ~88 ms of one core; a
   1,024-pixel marketplace photo: ~1.2 ms). ``reduce`` (2, 4, 8) decodes at 1/2, 1/4, 1/8 scale
   instead; ``benchmarks/aiscan.py`` measures what that saves and what it costs in ROC-AUC.
2. **Pick the most detailed tiles.** The frame is cut into ``TILE``-pixel tiles, ranked by
   detail measured at 1/4 scale (where sensor noise has averaged away); the top
   ``TOP_SHARE`` of them (at least ``MIN_TILES``) are where focus is judged, so a photo with a
   blurred background and a sharp subject is judged on its subject.
3. **Sharpness at three scales** on those tiles: the energy of the Laplacian at native, 1/2
   and 1/4 scale, with the part that noise of the measured sigma contributes taken out. A
   sharp photo keeps its energy at native scale; a soft one loses it at native scale only;
   a blurred one at 1/2 too; an upscaled one looks sharp only from some scale down, which
   gives the *effective* resolution.
4. **Noise, robust to texture** (Immerkaer 1996): the noise sigma of each small block from the
   Laplacian-difference operator, then a low percentile over blocks that are neither black
   nor white, i.e. the flattest parts of the photo, where texture cannot pass for noise.
5. **Exposure from the luminance histogram:** clipping at both ends, the 2nd/50th/98th
   percentiles (mid-tone placement), contrast.
6. **Compression:** the JPEG quality estimated from the luminance quantization table (the
   IJG scaling of the standard table inverted), bits per pixel, and 8x8 blockiness.

Every feature is a plain float; names start with ``px_``. :func:`defects` turns measured
values into the defects an inspector would name ("strong sensor noise", "highlights clipped
on 18% of the frame"); :func:`describe` says the same for one feature. A file that cannot be
read or decoded raises :class:`PixelError` with a reason a person understands.
"""
from __future__ import annotations

import io
import math

import numpy as np

MAX_PIXELS = 250_000_000  # beyond this the header is absurd (or a decompression bomb)
TILE = 128  # native pixels per focus tile
ANALYSE_PIXELS = 1_500_000  # noise and blockiness: on at most this many pixels (bands of a larger photo)
NOISE_BLOCK = 32  # native pixels per noise block
TOP_SHARE = 0.15  # share of tiles, the most detailed, on which focus is judged
MIN_TILES = 4
MAX_TILES = 32  # a 24-megapixel photo has ~1,400 tiles: its top 32 are plenty
NOISE_PERCENTILE = 10  # of the block sigmas: the flattest blocks
LAPLACIAN_NOISE_GAIN = 20.0  # var(4-neighbour Laplacian of white noise) / sigma^2 = 16 + 4 * 1
SHARP_RATIO = -0.75  # 0.5*ln(E_s / E_2s) at or above this: detail is present at scale s (measured, docs/aiscan.md)
RATIO_SPAN = 0.5  # how far below SHARP_RATIO a scale counts as having lost all its detail

PIXEL_FEATURES = (
    "px_width",
    "px_height",
    "px_megapixels",
    "px_effective_megapixels",
    "px_bits_per_pixel",
    "px_brightness",
    "px_contrast",
    "px_lum_p02",
    "px_lum_p50",
    "px_lum_p98",
    "px_clip_dark",
    "px_clip_bright",
    "px_detail",
    "px_sharpness",
    "px_sharp_fine",
    "px_sharp_mid",
    "px_focus",
    "px_noise",
    "px_jpeg_quality",
    "px_blockiness",
)

# IJG's standard luminance quantization table (ITU T.81 Annex K), in the natural (row) order
# Pillow reports tables in; quality q scales it by 5000/q (q < 50) or 200 - 2q (q >= 50) percent.
_STD_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
], dtype=np.float64)


class PixelError(ValueError):
    """The image could not be turned into features; the message is the reason."""


def jpeg_quality(tables) -> float:
    """The IJG quality (1-100) whose scaled standard table is nearest the photo's luminance
    table; NaN without tables. Encoders other than libjpeg use other tables: the figure is
    then "the libjpeg quality that quantizes as hard", which is what matters here."""
    if not tables:
        return math.nan
    table = np.asarray(tables.get(0) or next(iter(tables.values())), dtype=np.float64)
    if table.size != 64:
        return math.nan
    scale = float(np.median(table * 100.0 / _STD_LUMA))  # percent of the standard table
    quality = (200.0 - scale) / 2.0 if scale <= 100 else 5000.0 / scale
    return float(min(100.0, max(1.0, quality)))


def decode_errors() -> tuple:
    """What Pillow raises on a file it cannot open or decode."""
    from PIL import Image, UnidentifiedImageError

    return UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError


def open_image(data: bytes):
    """The opened (not yet decoded) Pillow image; PixelError for an empty, unreadable or
    absurdly large file."""
    from PIL import Image

    if not data:
        raise PixelError("image file is empty")
    try:
        img = Image.open(io.BytesIO(data))
    except decode_errors() as exc:
        raise PixelError(f"image cannot be decoded: {exc}") from None
    width, height = img.size
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        raise PixelError(f"absurd image size {width}x{height}")
    return img


def _decode_luma(data: bytes, reduce: int):
    """(luminance as uint8 array, header width, height, quantization tables)."""
    img = open_image(data)
    width, height = img.size
    tables = getattr(img, "quantization", None)
    try:
        if img.format == "JPEG":
            img.draft("L", (max(1, width // reduce), max(1, height // reduce)))
            img = img.convert("L") if img.mode != "L" else img  # convert("L") of an L image is a copy
        else:
            img = img.convert("L")
            if reduce > 1:
                img = img.reduce(reduce)
        luma = np.asarray(img, dtype=np.uint8)
    except decode_errors() as exc:
        raise PixelError(f"image cannot be decoded: {exc}") from None
    if luma.ndim != 2 or min(luma.shape) < 8:
        raise PixelError(f"image too small to judge ({width}x{height})")
    return luma, width, height, tables


def _block_means(a: np.ndarray, block: int) -> np.ndarray:
    import cv2

    h, w = (a.shape[0] // block) * block, (a.shape[1] // block) * block
    return cv2.resize(a[:h, :w], (w // block, h // block), interpolation=cv2.INTER_AREA)


def _bands(y: np.ndarray, block: int) -> np.ndarray:
    """``y`` itself when it has at most ``ANALYSE_PIXELS`` pixels, else evenly spaced
    horizontal bands of it (whole blocks high, starting on the 8-pixel JPEG grid) stacked."""
    h, w = y.shape
    if h * w <= ANALYSE_PIXELS:
        return y
    band = max(block, 8) * 4
    keep = max(1, ANALYSE_PIXELS // (band * w))
    starts = np.linspace(0, h - band, keep).astype(int) // 8 * 8
    return np.concatenate([y[s:s + band] for s in starts], axis=0)


def _lap_energy(a: np.ndarray) -> float:
    """Mean squared 4-neighbour Laplacian over the interior of ``a``."""
    lap = 4 * a[1:-1, 1:-1] - a[:-2, 1:-1] - a[2:, 1:-1] - a[1:-1, :-2] - a[1:-1, 2:]
    return float(np.mean(lap * lap))


def _blockiness(gray: np.ndarray, period: int) -> float:
    """Mean step across 8x8 JPEG block edges over the mean step elsewhere (1.0 = no visible
    blocks); ``period`` is the block size in the decoded image (NaN below 2 pixels)."""
    if period < 2 or min(gray.shape) <= period:
        return math.nan
    dx = np.abs(np.diff(gray, axis=1))
    dy = np.abs(np.diff(gray, axis=0))
    on_x = (np.arange(dx.shape[1]) % period) == period - 1
    on_y = (np.arange(dy.shape[0]) % period) == period - 1
    edge = dx[:, on_x].mean() + dy[on_y, :].mean()
    inner = dx[:, ~on_x].mean() + dy[~on_y, :].mean()
    return float(edge / inner) if inner > 1e-6 else 1.0


def pixel_features(data: bytes, reduce: int = 1) -> dict[str, float]:
    """The ``px_*`` features of one image given its bytes. ``reduce`` = 2, 4 or 8 decodes at
    that fraction of the native size (cheaper; measured in the benchmark, not the default):
    every length-like figure is then reported in native pixels."""
    import cv2

    if cv2.getNumThreads() != 1:
        cv2.setNumThreads(1)  # per-photo work is small: OpenCV's thread pool costs more than it saves
    luma8, width, height, tables = _decode_luma(data, reduce)
    scale = width / luma8.shape[1]  # native pixels per decoded pixel (1, 2, 4 or 8)
    h, w = luma8.shape  # the whole frame stays uint8: only samples and tiles become float

    # exposure: the histogram of the whole frame
    hist = cv2.calcHist([luma8], [0], None, [256], [0, 256]).ravel().astype(np.float64)  # np.bincount: 10x slower
    cdf = np.cumsum(hist) / hist.sum()
    pct = lambda q: float(np.searchsorted(cdf, q) / 255.0)  # noqa: E731
    levels = np.arange(256.0)
    mean = float((hist * levels).sum() / hist.sum())
    std = float(math.sqrt(max(0.0, (hist * (levels - mean) ** 2).sum() / hist.sum())))

    # noise: Immerkaer's operator, sigma per block, a low percentile over unclipped blocks;
    # on a large photo, on evenly spaced bands of it (ANALYSE_PIXELS in all)
    nb = max(4, min(int(NOISE_BLOCK / scale), min(h, w) // 8))
    sample = _bands(luma8, nb).astype(np.float32)
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
    resp = np.abs(cv2.filter2D(sample, cv2.CV_32F, kernel, borderType=cv2.BORDER_REFLECT))
    block_sigma = _block_means(resp, nb) * (math.sqrt(math.pi / 2) / 6.0)
    block_level = _block_means(sample, nb)
    usable = (block_level > 16) & (block_level < 239)
    sigmas = block_sigma[usable] if usable.sum() >= 4 else block_sigma.ravel()
    noise = float(np.percentile(sigmas, NOISE_PERCENTILE))  # in decoded pixels

    # focus: the most detailed tiles, ranked at 1/4 scale, judged at three scales
    t = max(16, min(int(TILE / scale), min(h, w) // 2))
    t -= t % 4
    rows, cols = h // t, w // t
    quarter = cv2.resize(luma8[: rows * t, : cols * t], (cols * t // 4, rows * t // 4),
                         interpolation=cv2.INTER_AREA).astype(np.float32)
    gx = cv2.Sobel(quarter, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(quarter, cv2.CV_32F, 0, 1, ksize=3)
    detail = _block_means(np.abs(gx) + np.abs(gy), t // 4).ravel()
    k = min(len(detail), MAX_TILES, max(MIN_TILES, int(round(TOP_SHARE * len(detail)))))
    chosen = np.argsort(-detail)[:k]
    energy = np.zeros(3)
    for idx in chosen:
        r, c = divmod(int(idx), cols)
        tile = luma8[r * t:(r + 1) * t, c * t:(c + 1) * t].astype(np.float32)
        energy[0] += _lap_energy(tile)
        energy[1] += _lap_energy(cv2.resize(tile, (t // 2, t // 2), interpolation=cv2.INTER_AREA))
        energy[2] += _lap_energy(cv2.resize(tile, (t // 4, t // 4), interpolation=cv2.INTER_AREA))
    energy /= k
    # take out what noise contributes (averaging 2x2 halves sigma at each step)
    floor = 1e-3
    e = np.maximum(energy - LAPLACIAN_NOISE_GAIN * noise ** 2 / np.array([1.0, 4.0, 16.0]), floor)
    fine = 0.5 * math.log(e[0] / e[1])
    mid = 0.5 * math.log(e[1] / e[2])

    # effective resolution: the finest decoded scale at which detail is present
    # (a strong blur flattens both scales, so the native ratio rises again: the half-scale
    # ratio decides first)
    if mid < SHARP_RATIO:
        detail_scale = 2.0 + 2.0 * min(1.0, (SHARP_RATIO - mid) / RATIO_SPAN)  # between 2 and 4
    elif fine < SHARP_RATIO:
        detail_scale = 1.0 + min(1.0, (SHARP_RATIO - fine) / RATIO_SPAN)  # between 1 and 2
    else:
        detail_scale = 1.0
    megapixels = width * height / 1e6
    effective = megapixels / (scale * detail_scale) ** 2 if scale * detail_scale > 1 else megapixels

    return {
        "px_width": float(width),
        "px_height": float(height),
        "px_megapixels": megapixels,
        "px_effective_megapixels": float(min(megapixels, effective)),
        "px_bits_per_pixel": len(data) * 8.0 / (width * height),
        "px_brightness": mean / 255.0,
        "px_contrast": std / 255.0,
        "px_lum_p02": pct(0.02),
        "px_lum_p50": pct(0.50),
        "px_lum_p98": pct(0.98),
        "px_clip_dark": float(hist[:5].sum() / hist.sum()),
        "px_clip_bright": float(hist[251:].sum() / hist.sum()),
        "px_detail": float(0.5 * math.log10(max(energy[2], floor))),
        "px_sharpness": float(0.5 * math.log10(e[0])),
        "px_sharp_fine": float(fine),
        "px_sharp_mid": float(mid),
        "px_focus": float(min(fine, mid)),
        "px_noise": noise,
        "px_jpeg_quality": jpeg_quality(tables),
        "px_blockiness": _blockiness(sample, int(round(8 / scale))),
    }


def empty_features() -> dict[str, float]:
    return {name: math.nan for name in PIXEL_FEATURES}


# ----------------------------------------------------------------------------- in words
# Where a measured value becomes a defect an inspector names; chosen on the generated set
# (benchmarks/aiscan.py, docs/aiscan.md): each is where the inspectors' acceptance starts to
# fall clearly, not where a defect is merely measurable.
NOISE_STRONG = 7.0  # grey levels (of 255) in the flattest areas
FOCUS_SOFT = -0.95  # px_focus below: the most detailed areas lack detail at native or half scale
BLUR_MIN_DETAIL = 0.6  # px_detail above: enough structure to judge focus at all
CLIP_BRIGHT = 0.05  # share of the frame at 251..255
CLIP_DARK = 0.10  # share of the frame at 0..4
DARK_MEDIAN, BRIGHT_MEDIAN = 0.22, 0.85  # median luminance (0..1) outside which exposure is off
JPEG_LOW = 45.0  # estimated JPEG quality
LOW_MEGAPIXELS = 0.2  # effective megapixels


def _ok(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def describe(feature: str, f: dict) -> str | None:
    """The defect that ``feature`` measures in photo ``f``, in words with the measured value,
    or None when the feature shows no defect (or is not a pixel feature)."""
    v = f.get(feature)
    if not _ok(v):
        return None
    if feature == "px_noise" and v >= NOISE_STRONG:
        return f"strong sensor noise (about {v:.0f} grey levels even in flat areas)"
    if feature in ("px_focus", "px_sharp_fine", "px_sharpness", "px_sharp_mid") and _ok(f.get("px_focus")):
        if f["px_focus"] < FOCUS_SOFT and f.get("px_detail", 0) >= BLUR_MIN_DETAIL:
            if _ok(f.get("px_sharp_mid")) and f["px_sharp_mid"] < FOCUS_SOFT:
                return "out of focus in the most detailed areas (blurred even at half size)"
            return "out of focus in the most detailed areas (soft at 100% zoom)"
        return None
    if feature == "px_clip_bright" and v >= CLIP_BRIGHT:
        return f"highlights clipped on {v:.0%} of the frame"
    if feature == "px_clip_dark" and v >= CLIP_DARK:
        return f"shadows crushed to black on {v:.0%} of the frame"
    if feature in ("px_lum_p50", "px_brightness"):
        m = f.get("px_lum_p50")
        if _ok(m) and m <= DARK_MEDIAN:
            return f"underexposed (half the frame is darker than {m:.0%} grey)"
        if _ok(m) and m >= BRIGHT_MEDIAN:
            return f"overexposed (half the frame is brighter than {m:.0%} grey)"
        return None
    if feature in ("px_jpeg_quality", "px_blockiness", "px_bits_per_pixel"):
        q = f.get("px_jpeg_quality")
        if _ok(q) and q < JPEG_LOW:
            return f"heavy JPEG compression (quality about {q:.0f} of 100)"
        return None
    if feature in ("px_effective_megapixels", "px_megapixels", "px_width", "px_height"):
        eff, mp = f.get("px_effective_megapixels"), f.get("px_megapixels")
        if _ok(eff) and eff < LOW_MEGAPIXELS:
            if _ok(mp) and mp >= 2 * eff and mp >= LOW_MEGAPIXELS:
                return f"upscaled: {mp:.1f} megapixels in the file, about {eff:.2f} of real detail"
            return f"resolution too low (about {eff:.2f} megapixels of real detail)"
    return None


DEFECT_FEATURES = ("px_focus", "px_noise", "px_clip_bright", "px_clip_dark", "px_lum_p50",
                   "px_effective_megapixels", "px_jpeg_quality")


def defects(f: dict) -> list[tuple[str, str]]:
    """Every defect measured in photo ``f``: [(feature, words)], in a fixed order."""
    out = []
    for feature in DEFECT_FEATURES:
        text = describe(feature, f)
        if text:
            out.append((feature, text))
    return out

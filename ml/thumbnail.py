"""The AI scan's first pixel features, on a 256-pixel thumbnail: kept only as the baseline
that ``benchmarks/aiscan.py`` measures the native-resolution features of :mod:`ml.pixels`
against (at 256 pixels a 2-pixel blur or sensor noise on a 2,000-pixel photo is gone).

Pillow's ``draft`` lets libjpeg decode straight to 1/2, 1/4 or 1/8 scale, so a 24-megapixel
photo costs a few milliseconds, not a full decode. The reduced image is then resized to a
fixed working size (longest side ``WORK_SIDE``) so that sharpness and noise mean the same
thing whatever the original resolution.

Every feature is a plain float; names start with ``px_``. A file that cannot be read or
decoded raises :class:`PixelError` with a reason a person understands.
"""
from __future__ import annotations

import math

import numpy as np

from ml.pixels import PixelError, decode_errors, open_image

WORK_SIDE = 256  # longest side of the working image
DRAFT_SIDE = 256  # ask libjpeg for at least this many pixels on each side

THUMBNAIL_FEATURES = (
    "px_width",
    "px_height",
    "px_megapixels",
    "px_bits_per_pixel",
    "px_brightness",
    "px_contrast",
    "px_clip_dark",
    "px_clip_bright",
    "px_sharpness",
    "px_edge_density",
    "px_noise",
    "px_colourfulness",
    "px_saturation",
    "px_jpeg_quant",
    "px_blockiness",
)


def _jpeg_quant(img) -> float:
    """Mean of the luminance quantization table: ~1-3 for quality 95+, 10-30 for heavy
    compression. NaN for non-JPEG files."""
    tables = getattr(img, "quantization", None)
    if not tables:
        return math.nan
    table = tables.get(0) or next(iter(tables.values()))
    return float(np.mean(table))


def _blockiness(gray: np.ndarray, period: int) -> float:
    """Ratio of the mean horizontal+vertical step across 8x8 JPEG block edges to the mean
    step elsewhere (1.0 = no visible blocks). ``period`` is the block size in the decoded
    image; below 2 pixels blocks cannot be seen and the result is NaN."""
    if period < 2:
        return math.nan
    dx = np.abs(np.diff(gray, axis=1))
    dy = np.abs(np.diff(gray, axis=0))
    cols = np.arange(dx.shape[1])
    rows = np.arange(dy.shape[0])
    on_x = (cols % period) == period - 1
    on_y = (rows % period) == period - 1
    edge = dx[:, on_x].mean() + dy[on_y, :].mean() if on_x.any() and on_y.any() else math.nan
    inner = dx[:, ~on_x].mean() + dy[~on_y, :].mean()
    return float(edge / inner) if inner > 1e-6 else 1.0


def thumbnail_features(data: bytes, draft: bool = True) -> dict[str, float]:
    """The ``px_*`` features of one image given its bytes. ``draft=False`` decodes at full
    size first (the benchmark's baseline; same features, only slower)."""
    import cv2

    if cv2.getNumThreads() != 1:
        cv2.setNumThreads(1)  # tiny images: OpenCV's thread pool costs more than it saves
    img = open_image(data)
    width, height = img.size
    quant = _jpeg_quant(img)
    try:
        if draft and img.format == "JPEG":
            img.draft("RGB", (DRAFT_SIDE, DRAFT_SIDE))
        img = img.convert("RGB")
    except decode_errors() as exc:
        raise PixelError(f"image cannot be decoded: {exc}") from None
    scale = img.size[0] / width  # 1, 1/2, 1/4 or 1/8 after draft
    rgb = np.asarray(img, dtype=np.uint8)
    gray_full = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    blockiness = _blockiness(gray_full, int(round(8 * scale)))

    side = max(rgb.shape[0], rgb.shape[1])
    if side > WORK_SIDE:
        f = WORK_SIDE / side
        size = (max(1, round(rgb.shape[1] * f)), max(1, round(rgb.shape[0] * f)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)

    lap = cv2.Laplacian(gray, cv2.CV_32F, ksize=3)
    h, w = gray.shape
    if h >= 3 and w >= 3:
        # Immerkaer's fast noise estimate (sigma of additive Gaussian noise)
        kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
        conv = cv2.filter2D(gray, cv2.CV_32F, kernel)[1:-1, 1:-1]
        noise = float(math.sqrt(math.pi / 2) * np.abs(conv).sum() / (6 * (w - 2) * (h - 2)))
    else:
        noise = math.nan
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = np.sqrt(gx * gx + gy * gy)

    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    rg = r - g
    yb = 0.5 * (r + g) - b
    colourfulness = float(
        math.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * math.sqrt(rg.mean() ** 2 + yb.mean() ** 2)
    )
    mx = rgb.max(axis=2).astype(np.float32)
    mn = rgb.min(axis=2).astype(np.float32)
    saturation = float(np.mean(np.where(mx > 0, (mx - mn) / np.maximum(mx, 1), 0)))

    return {
        "px_width": float(width),
        "px_height": float(height),
        "px_megapixels": width * height / 1e6,
        "px_bits_per_pixel": len(data) * 8.0 / (width * height),
        "px_brightness": float(gray.mean() / 255.0),
        "px_contrast": float(gray.std() / 255.0),
        "px_clip_dark": float(np.mean(gray <= 5)),
        "px_clip_bright": float(np.mean(gray >= 250)),
        "px_sharpness": float(math.log1p(lap.var())),
        "px_edge_density": float(np.mean(magnitude > 100)),
        "px_noise": noise,
        "px_colourfulness": colourfulness,
        "px_saturation": saturation,
        "px_jpeg_quant": quant,
        "px_blockiness": blockiness,
    }

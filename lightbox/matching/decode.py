"""One decode path for every image the matcher sees, catalogue photo or found image.

Decoding dominates the cost of hashing, so JPEGs are decoded DCT-scaled (Pillow's
``Image.draft``: libjpeg scales by 1/2, 1/4 or 1/8 while decoding) to the smallest size
that is still at least ``long_side`` pixels on the long side. Orientation is normalised
from EXIF, the first frame of an animation is used, every mode (CMYK, 16-bit, palette,
alpha) ends as 8-bit RGB or grey, and anything that is not a raster image we can trust
(zero bytes, truncated data, SVG, more pixels than Pillow's decompression-bomb limit)
raises :class:`BadImage` with a short reason instead of crashing the batch.
"""
from __future__ import annotations

import io
import warnings

import numpy as np

from lightbox.content import is_markup

# Pillow's own default limit (about 89.5 megapixels, e.g. 9459 x 9459); above it we refuse.
MAX_PIXELS = 89_478_485
MIN_SIDE = 8  # below this there is nothing to hash (1x1 tracking pixels, icons)


class BadImage(ValueError):
    """The input cannot be hashed. ``reason`` is a short, stable, human-readable cause."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def open_image(data: bytes):
    """The first frame as a loaded Pillow image (not yet orientation-normalised)."""
    from PIL import Image

    if not data:
        raise BadImage("zero-byte file")
    if is_markup(data):
        raise BadImage("SVG or other vector/text document (not a raster image)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            w, h = im.size
            if w * h > MAX_PIXELS:
                raise BadImage(f"decompression bomb: {w}x{h} is over {MAX_PIXELS} pixels")
    except BadImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadImage(f"decompression bomb: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for junk input
        raise BadImage(f"not a readable image: {type(exc).__name__}") from exc
    return im


def decode(data: bytes, long_side: int = 256, mode: str = "L") -> np.ndarray:
    """Decode ``data`` to a uint8 array (H, W) for mode "L" or (H, W, 3) for "RGB" and
    "YCbCr" (whose first plane is exactly the "L" decode: JPEG stores it), EXIF
    orientation applied, at least ``long_side`` px on its long side when the source is that
    big (JPEGs are DCT-scaled to the nearest size at or above it; nothing is upscaled)."""
    from PIL import ImageOps

    im = open_image(data)
    try:
        if getattr(im, "n_frames", 1) > 1:
            im.seek(0)
        w, h = im.size
        if min(w, h) < 1:
            raise BadImage("image has no pixels")
        if im.format == "JPEG" and max(w, h) > long_side:
            scale = long_side / max(w, h)
            req = (max(1, int(np.ceil(w * scale))), max(1, int(np.ceil(h * scale))))
            draft_mode = mode if im.mode in ("RGB", "L") else None
            im.draft(draft_mode, req)
        im.load()
        im = ImageOps.exif_transpose(im)
        im = _to_mode(im, mode)
    except BadImage:
        raise
    except Exception as exc:  # noqa: BLE001 - truncated/corrupt data: many exception types
        raise BadImage(f"corrupt or truncated image data: {type(exc).__name__}: {exc}"[:200]) from exc
    arr = np.asarray(im)
    if min(arr.shape[:2]) < MIN_SIDE:
        raise BadImage(f"too small to match: {arr.shape[1]}x{arr.shape[0]} px")
    return arr


def _to_mode(im, mode: str):
    """8-bit grey or RGB from any Pillow mode; alpha is flattened onto white (how a page
    shows a transparent image), 16-bit and float images are rescaled, not clipped."""
    from PIL import Image

    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        top = 65535.0 if im.mode.startswith("I;16") else (hi if hi > 255 else 255.0)
        if im.mode == "F" or lo < 0:
            arr = (arr - lo) / max(hi - lo, 1e-9) * 255.0
        else:
            arr = arr / max(top, 1.0) * 255.0
        im = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L")
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, rgba).convert("RGB")
    if im.mode != mode:
        im = im.convert(mode)
    return im

"""Photo images for the inspector app: the original through ``lightbox.landing.media`` and JPEG
renditions (a thumbnail for lists, a display size for the photo page) made with Pillow and
cached on disk under ``$LIGHTBOX_HOME/cache/inspector`` plus a small in-memory LRU.

Landing files never change once written, so a rendition is keyed by the image_path and
size only and never goes stale.
"""
from __future__ import annotations

import hashlib
import io
import os
import threading
from collections import OrderedDict
from pathlib import Path

SIZES = {"thumb": 360, "display": 1400}

_memory: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()
_memory_lock = threading.Lock()
_MEMORY_ITEMS = 256


def cache_dir() -> Path:
    from lightbox.config import settings

    return settings().home / "cache" / "inspector"


def original(image_path: str, sha256: str | None = None) -> tuple[bytes, str]:
    """(bytes, content type) of a photo's original; the type is what Pillow sees, so
    nothing but an image (of the row's sha256, when it has one) is ever served."""
    from PIL import Image

    from lightbox.landing.media import read_photo_bytes

    data = read_photo_bytes(image_path, sha256=sha256)
    with Image.open(io.BytesIO(data)) as img:
        mime = Image.MIME.get(img.format or "", "application/octet-stream")
    return data, mime


def rendition(image_path: str, size: str, sha256: str | None = None) -> bytes:
    """A JPEG of the photo no larger than SIZES[size] on its long side."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}")
    key = (image_path, size, sha256 or "")
    with _memory_lock:
        if key in _memory:
            _memory.move_to_end(key)
            return _memory[key]
    digest = hashlib.sha256(f"{size}\0{image_path}\0{sha256 or ''}".encode()).hexdigest()
    path = cache_dir() / digest[:2] / f"{digest}.jpg"
    if path.exists():
        data = path.read_bytes()
    else:
        data = _render(image_path, SIZES[size], sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    with _memory_lock:
        _memory[key] = data
        while len(_memory) > _MEMORY_ITEMS:
            _memory.popitem(last=False)
    return data


def _render(image_path: str, long_side: int, sha256: str | None) -> bytes:
    from PIL import Image, ImageOps

    from lightbox.landing.media import read_photo_bytes

    with Image.open(io.BytesIO(read_photo_bytes(image_path, sha256=sha256))) as img:
        img.draft("RGB", (long_side, long_side))  # JPEG: decode at a reduced scale, much faster
        img = ImageOps.exif_transpose(img)
        img.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
        if img.mode != "RGB":
            img = img.convert("RGB")
        out = io.BytesIO()
        img.save(out, "JPEG", quality=84, optimize=True, progressive=True)
    return out.getvalue()

"""Images of the sample marketplace: quality variants of the 16 real sample photos, the
transformed copies that infringers put on their sites, and unrelated synthetic pictures.

Every function here is deterministic (fixed parameters, seeded noise, Pillow's JPEG encoder),
so the same call writes the same bytes. Variants do not depend on the seed: they are the
marketplace's image library, which rows of any scale reuse.
"""
from __future__ import annotations

import hashlib
import io
import zlib
from dataclasses import dataclass
from pathlib import Path

from lightbox.config import REPO_ROOT

SAMPLE_DIR = REPO_ROOT / "include" / "sample_photos"
MAX_SIDE = 1024

# kind -> (pixel quality in [0, 1] the inspectors react to, what an inspector would say)
VARIANTS: dict[str, tuple[float, str]] = {
    "sharp": (0.95, ""),
    "soft": (0.70, "slightly soft focus"),
    "blurred": (0.08, "out of focus"),
    "overexposed": (0.18, "blown highlights"),
    "underexposed": (0.22, "too dark"),
    "lowres": (0.30, "resolution too low"),
    "noisy": (0.25, "too much noise"),
    "jpeg": (0.20, "heavy compression artefacts"),
    "colourshift": (0.55, "colour cast"),
    "crop": (0.90, ""),
}
VARIANT_KINDS = tuple(VARIANTS)


@dataclass(frozen=True)
class ImageInfo:
    """One image file under the landing folder's ``images/``."""

    name: str  # file name, e.g. aqua_sharp.jpg
    base: str  # stem of the sample photo it comes from
    base_index: int
    kind: str
    width: int
    height: int
    sha256: str
    quality: float  # the pixel quality the inspectors react to
    sharpness: float  # variance of the Laplacian on a 256 px grey version
    brightness: float  # mean grey level, 0..255
    clipped: float  # share of pixels at 0 or 255

    @property
    def image_path(self) -> str:
        return f"images/{self.name}"

    def as_dict(self) -> dict:
        return {
            "image_path": self.image_path,
            "base": self.base,
            "kind": self.kind,
            "width": self.width,
            "height": self.height,
            "sha256": self.sha256,
            "quality": self.quality,
            "sharpness": round(self.sharpness, 1),
            "brightness": round(self.brightness, 1),
            "clipped": round(self.clipped, 4),
        }


def sample_files() -> list[Path]:
    files = sorted(SAMPLE_DIR.glob("*.jpg"))
    if not files:
        raise FileNotFoundError(f"no sample photos in {SAMPLE_DIR}")
    return files


def base_slug(path: Path) -> str:
    return path.stem.split("_by_")[0].lower().replace("_", "-")


def _seed_for(*parts: str) -> int:
    return zlib.crc32("/".join(parts).encode())


def jpeg_bytes(img, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality, optimize=False, progressive=False)
    return buf.getvalue()


def fit(img, max_side: int):
    from PIL import Image

    w, h = img.size
    scale = max_side / max(w, h)
    if scale >= 1:
        return img
    return img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)


def load_base(path: Path):
    from PIL import Image

    img = Image.open(path)
    img.draft("RGB", (MAX_SIDE, MAX_SIDE))  # decode at a reduced scale: much faster
    return fit(img.convert("RGB"), MAX_SIDE)


def _noisy(img, sigma: float, seed: int):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    arr = np.asarray(img, dtype=np.int16)
    noise = rng.normal(0, sigma, arr.shape).astype(np.int16)
    return Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8))


def make_variant(base, kind: str, seed_key: str):
    """The image for one quality variant, and the JPEG quality to save it with."""
    from PIL import ImageEnhance, ImageFilter

    w, h = base.size
    if kind == "sharp":
        return base, 90
    if kind == "soft":
        return base.filter(ImageFilter.GaussianBlur(1.3)), 90
    if kind == "blurred":
        return base.filter(ImageFilter.GaussianBlur(5)), 90
    if kind == "overexposed":
        return ImageEnhance.Brightness(base).enhance(2.0), 90
    if kind == "underexposed":
        return ImageEnhance.Brightness(base).enhance(0.3), 90
    if kind == "lowres":
        return fit(base, 320), 88
    if kind == "noisy":
        return _noisy(base, 30, _seed_for(seed_key, kind)), 90
    if kind == "jpeg":
        return base, 7
    if kind == "colourshift":
        crop = base.crop((w // 10, h // 10, w - w // 10, h - h // 10))
        r, g, b = crop.split()
        r = r.point(lambda v: min(255, int(v * 1.35)))
        b = b.point(lambda v: int(v * 0.65))
        from PIL import Image

        return Image.merge("RGB", (r, g, b)), 90
    if kind == "crop":
        # a tighter framing of the same scene, still sharp
        return base.crop((0, 0, int(w * 0.8), int(h * 0.8))), 90
    raise ValueError(f"unknown variant {kind!r}")


def measure(img) -> tuple[float, float, float]:
    """(sharpness, brightness, clipped share) of an image, measured on a 256 px grey copy."""
    import numpy as np

    grey = np.asarray(fit(img.convert("L"), 256), dtype=np.float32)
    lap = grey[1:-1, 1:-1] * 4 - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]
    clipped = float(((grey <= 2) | (grey >= 253)).mean())
    return float(lap.var()), float(grey.mean()), clipped


LIBRARY_VERSION = 1  # bump when a variant changes: the cache below is keyed by it


def _library_key() -> str:
    import PIL

    digest = hashlib.sha256(f"{LIBRARY_VERSION}|{PIL.__version__}|{MAX_SIDE}|{sorted(VARIANTS.items())}".encode())
    for path in sample_files():
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def build_library(images_dir: Path, cache_dir: Path | None = None) -> list[ImageInfo]:
    """Write every variant of every sample photo once; return their descriptions in a fixed
    order (base by base, variant by variant). With ``cache_dir``, a library built before (same
    sample photos, same code version) is copied instead of encoded again."""
    import json
    import shutil

    images_dir.mkdir(parents=True, exist_ok=True)
    cached = None
    if cache_dir is not None:
        cached = Path(cache_dir) / f"seed-images-{_library_key()}"
        index = cached / "library.json"
        if index.is_file():
            try:
                library = [ImageInfo(**item) for item in json.loads(index.read_text())]
                for info in library:
                    shutil.copyfile(cached / info.name, images_dir / info.name)
                return library
            except (OSError, ValueError, TypeError):
                pass  # a damaged cache: build afresh
    library = _build(images_dir)
    if cached is not None:
        import dataclasses
        import tempfile

        tmp = None
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(dir=cached.parent, prefix=".building-"))
            for info in library:
                shutil.copyfile(images_dir / info.name, tmp / info.name)
            (tmp / "library.json").write_text(json.dumps([dataclasses.asdict(i) for i in library]))
            tmp.rename(cached)
        except OSError:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)  # another run filled the cache first, or no space
    return library


def _build(images_dir: Path) -> list[ImageInfo]:
    library = []
    for index, path in enumerate(sample_files()):
        slug = base_slug(path)
        base = load_base(path)
        for kind in VARIANT_KINDS:
            img, quality = make_variant(base, kind, slug)
            data = jpeg_bytes(img, quality)
            name = f"{slug}_{kind}.jpg"
            (images_dir / name).write_bytes(data)
            sharpness, brightness, clipped = measure(img)
            library.append(
                ImageInfo(
                    name=name,
                    base=slug,
                    base_index=index,
                    kind=kind,
                    width=img.size[0],
                    height=img.size[1],
                    sha256=hashlib.sha256(data).hexdigest(),
                    quality=VARIANTS[kind][0],
                    sharpness=sharpness,
                    brightness=brightness,
                    clipped=clipped,
                )
            )
    return library


# --- what infringers do to a photo ---------------------------------------------------------

TRANSFORMS = ("crop10", "hflip", "letterbox", "reencode_q15", "resize50", "banner", "crop_resize", "identity")


def transform_copy(src: Path, transform: str) -> bytes:
    """A copy of ``src`` altered the way a site that took it would alter it."""
    from PIL import Image, ImageDraw, ImageOps

    img = Image.open(src).convert("RGB")
    w, h = img.size
    if transform == "identity":
        return jpeg_bytes(img, 85)
    if transform == "crop10":
        dx, dy = w // 20, h // 20
        return jpeg_bytes(img.crop((dx, dy, w - dx, h - dy)), 85)
    if transform == "hflip":
        return jpeg_bytes(ImageOps.mirror(img), 85)
    if transform == "letterbox":
        side = max(w, h)
        canvas = Image.new("RGB", (side, side), (0, 0, 0))
        canvas.paste(img, ((side - w) // 2, (side - h) // 2))
        return jpeg_bytes(fit(canvas, 900), 85)
    if transform == "reencode_q15":
        return jpeg_bytes(img, 15)
    if transform == "resize50":
        return jpeg_bytes(img.resize((w // 2, h // 2), Image.Resampling.BILINEAR), 85)
    if transform == "banner":
        canvas = img.copy()
        draw = ImageDraw.Draw(canvas)
        band = h // 7
        draw.rectangle((0, h - band, w, h), fill=(200, 20, 40))
        draw.text((w // 20, h - band + band // 3), "SALE  -50%  WALLPAPERS FREE DOWNLOAD", fill=(255, 255, 255))
        return jpeg_bytes(canvas, 80)
    if transform == "crop_resize":
        crop = img.crop((w * 6 // 100, h * 4 // 100, w * 96 // 100, h * 94 // 100))
        return jpeg_bytes(fit(crop, 600), 80)
    raise ValueError(f"unknown transform {transform!r}")


def synthetic_image(key: str, width: int = 640, height: int = 420) -> bytes:
    """An unrelated picture (shapes on a gradient), different for every key."""
    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(_seed_for("synthetic", key))
    c1, c2 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    t = np.linspace(0, 1, width)[None, :, None]
    grad = (c1[None, None, :] * (1 - t) + c2[None, None, :] * t).repeat(height, axis=0)
    img = Image.fromarray(grad.astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(6, 14))):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1, y1 = x0 + int(rng.integers(20, 260)), y0 + int(rng.integers(20, 200))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    return jpeg_bytes(img, 85)

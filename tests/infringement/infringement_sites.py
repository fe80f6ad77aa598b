"""A tiny web with planted copies of catalogue photos, for the sweep tests."""
from __future__ import annotations

import io
import shutil
from pathlib import Path

from localweb import LocalWeb, Response

SAMPLES = Path(__file__).resolve().parents[2] / "include" / "sample_photos"


def copy_of(name: str, crop: float = 0.08, long_side: int = 700, flip: bool = False) -> bytes:
    """A re-encoded, cropped, downscaled copy of a sample photo, as an infringer would post it."""
    from PIL import Image, ImageOps

    with Image.open(SAMPLES / name) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
        w, h = im.size
        im = im.crop((int(w * crop), int(h * crop), int(w * (1 - crop)), int(h * (1 - crop))))
        im.thumbnail((long_side, long_side))
        if flip:
            im = ImageOps.mirror(im)
        out = io.BytesIO()
        im.save(out, "JPEG", quality=80)
        return out.getvalue()


def unrelated() -> bytes:
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (500, 400), (240, 230, 210))
    draw = ImageDraw.Draw(im)
    for i in range(0, 500, 25):
        draw.line((i, 0, 500 - i, 400), fill=(i % 255, 80, 160), width=3)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85)
    return out.getvalue()


def page(*images: str, links: tuple[str, ...] = ()) -> Response:
    body = "<!doctype html><html><head><title>t</title></head><body>"
    body += "".join(f'<img src="{src}" alt="">' for src in images)
    body += "".join(f'<a href="{href}">more</a>' for href in links)
    return Response(200, (body + "</body></html>").encode())


def jpeg(data: bytes) -> Response:
    return Response(200, data, content_type="image/jpeg")


def install_photos(landing: Path, names: dict[str, str]) -> dict[str, str]:
    """Copy sample photos into the landing folder; photo_id -> image_path."""
    (landing / "images").mkdir(parents=True, exist_ok=True)
    paths = {}
    for photo_id, name in names.items():
        shutil.copy(SAMPLES / name, landing / "images" / name)
        paths[photo_id] = f"images/{name}"
    return paths


def insert_photo(cur, photo_id: str, owner_id: str, image_path: str, exclusive: bool = True) -> None:
    cur.execute(
        """insert into raw.photos (photo_id, owner_id, title, exclusive, image_path, uploaded_at, _file_id, _line, _arrived_at)
           values (%s, %s, %s, %s, %s, '2025-06-01', 0, 1, now())""",
        (photo_id, owner_id, f"Photo {photo_id}", exclusive, image_path),
    )


def insert_seed(cur, url: str, source: str = "seed", max_depth: int = 1, reported_by: str | None = None, priority: int = 0) -> None:
    cur.execute(
        """insert into raw.crawl_seeds (url, priority, max_depth, source, reported_by, _file_id, _line, _arrived_at)
           values (%s, %s, %s, %s, %s, 0, 1, now())""",
        (url, priority, max_depth, source, reported_by),
    )


__all__ = ["LocalWeb", "Response", "copy_of", "unrelated", "page", "jpeg", "install_photos", "insert_photo", "insert_seed"]

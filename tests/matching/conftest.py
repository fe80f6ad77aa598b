"""Small fixtures for the matching tests, made at test time from include/sample_photos."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

PHOTOS = Path(__file__).resolve().parents[2] / "include" / "sample_photos"
CATALOG = ["Aqua", "GreenMeadow", "Kleiber_by_Lukas_Baubkus", "Wood"]
OTHERS = ["Garden", "LadyBird", "RainDrops", "YellowFlower"]


def load(name: str, side: int = 480) -> Image.Image:
    im = Image.open(PHOTOS / f"{name}.jpg")
    im.draft("RGB", (side, side))
    im = im.convert("RGB")
    im.thumbnail((side, side))
    return im


def jpeg(im: Image.Image, q: int = 90) -> bytes:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=q)
    return buf.getvalue()


@pytest.fixture(scope="session")
def photos() -> dict[str, Image.Image]:
    return {n: load(n) for n in CATALOG + OTHERS}


@pytest.fixture(scope="session")
def index(photos):
    from lightbox.matching import CatalogIndex, hash_image

    idx = CatalogIndex()
    for name in CATALOG:
        idx.add(name, hash_image(jpeg(photos[name], 92)))
    return idx

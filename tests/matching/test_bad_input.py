"""Every bad input gives a clear BadImage or a no-match, never a crash."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from lightbox.matching import BadImage, hash_image

from .conftest import jpeg


def _save(im, fmt, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def test_zero_bytes():
    with pytest.raises(BadImage, match="zero-byte"):
        hash_image(b"")


def test_truncated_and_corrupt(photos):
    data = jpeg(photos["Aqua"])
    with pytest.raises(BadImage):
        hash_image(data[: len(data) // 3])
    with pytest.raises(BadImage, match="not a readable image"):
        hash_image(b"\x00garbage" * 100)
    corrupt = bytearray(data)
    corrupt[200:4000] = b"\xff" * 3800
    try:  # libjpeg may decode garbage pixels; then it must hash or refuse, not crash
        hash_image(bytes(corrupt))
    except BadImage:
        pass


def test_svg_is_refused():
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    with pytest.raises(BadImage, match="SVG"):
        hash_image(svg)
    with pytest.raises(BadImage, match="SVG"):
        hash_image(b"<svg xmlns='http://www.w3.org/2000/svg'></svg>")


def test_decompression_bomb_is_refused():
    # a valid PNG header claiming 20000 x 20000 pixels (400 Mpx), tiny on disk
    def chunk(tag, body):
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")
    with pytest.raises(BadImage, match="decompression bomb"):
        hash_image(png)


def test_one_by_one_pixel():
    with pytest.raises(BadImage, match="too small"):
        hash_image(_save(Image.new("RGB", (1, 1), (255, 0, 0)), "PNG"))


def test_flat_colour_is_not_matchable(index):
    h = hash_image(_save(Image.new("RGB", (300, 200), (12, 80, 200)), "PNG"))
    assert not h.matchable and h.quality < 0.05
    assert index.query(h) == []
    icon = Image.new("RGB", (24, 24), (255, 255, 255))
    icon.paste((0, 0, 0), (8, 8, 16, 16))
    assert not hash_image(_save(icon, "PNG")).matchable


def test_modes_hash_like_the_rgb_original(photos, index):
    im = photos["Aqua"]
    variants = {
        "cmyk": _save(im.convert("CMYK"), "JPEG", quality=90),
        "palette": _save(im.convert("P", palette=Image.Palette.ADAPTIVE), "PNG"),
        "alpha": _save(im.convert("RGBA"), "PNG"),
        "sixteen_bit": _save(Image.fromarray((np.asarray(im.convert("L"), np.uint16) * 257)).convert("I;16"), "PNG"),
        "webp": _save(im, "WEBP", quality=80),
    }
    for name, data in variants.items():
        matches = index.query(hash_image(data))
        assert matches and matches[0].photo_id == "Aqua", name


def test_animated_first_frame(photos, index):
    first, second = photos["Wood"], photos["RainDrops"].resize(photos["Wood"].size)
    gif = io.BytesIO()
    first.convert("P").save(gif, "GIF", save_all=True, append_images=[second.convert("P")], duration=100)
    assert index.query(hash_image(gif.getvalue()))[0].photo_id == "Wood"
    webp = io.BytesIO()
    first.save(webp, "WEBP", save_all=True, append_images=[second], duration=100, quality=85)
    assert index.query(hash_image(webp.getvalue()))[0].photo_id == "Wood"


def test_exif_orientation_is_applied(photos, index):
    im = photos["Kleiber_by_Lukas_Baubkus"]
    stored = im.transpose(Image.Transpose.ROTATE_90)  # what the camera wrote (display rotates it back)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    data = _save(stored, "JPEG", quality=90, exif=exif.tobytes())
    m = index.query(hash_image(data))[0]
    assert m.photo_id == "Kleiber_by_Lukas_Baubkus" and m.transform is None


def test_a_batch_survives_bad_items(photos, index):
    batch = [b"", b"<svg/>", jpeg(photos["Wood"]), b"junk"]
    outcomes = []
    for data in batch:
        try:
            outcomes.append([m.photo_id for m in index.query(hash_image(data))])
        except BadImage as exc:
            outcomes.append(exc.reason)
    assert outcomes[2] == ["Wood"] and all(isinstance(o, str) for o in outcomes[:2] + outcomes[3:])

"""One test per transform family: the transformed catalogue photo matches its own photo
(and nothing else); other photos match nothing."""
from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from lightbox.matching import hash_image

from .conftest import CATALOG, OTHERS, jpeg


def _crop(im, l, t, r, b):
    w, h = im.size
    return im.crop((round(l * w), round(t * h), round(w - r * w), round(h - b * h)))


def _pad(im, frac=0.15, colour=(0, 0, 0)):
    w, h = im.size
    canvas = Image.new("RGB", (round(w * (1 + 2 * frac)), round(h * (1 + 2 * frac))), colour)
    canvas.paste(im, (round(w * frac), round(h * frac)))
    return canvas


def _letterbox(im):
    w, h = im.size
    canvas = Image.new("RGB", (w, round(w * 1.0)), (0, 0, 0)) if w > h else Image.new("RGB", (h, h), (0, 0, 0))
    canvas.paste(im, ((canvas.width - w) // 2, (canvas.height - h) // 2))
    return canvas


def _watermark(im):
    out = im.copy()
    d = ImageDraw.Draw(out, "RGBA")
    w, h = out.size
    d.text((w * 0.2, h * 0.45), "© stock sample", fill=(255, 255, 255, 150))
    d.ellipse((w - w // 8 - 6, 6, w - 6, 6 + w // 8), fill=(200, 30, 30, 200))
    return out


def _colour(im):
    out = ImageEnhance.Color(im).enhance(0.5)
    out = ImageEnhance.Brightness(out).enhance(1.15)
    return out.point(lambda v: int(255 * (v / 255) ** 0.8))


def _composite(im, other):
    w, h = im.size
    canvas = Image.new("RGB", (int(w * 1.7), int(h * 1.2)), (30, 60, 200))
    canvas.paste(other.resize((int(w * 0.5), int(h * 0.8))), (int(w * 1.15), int(h * 0.2)))
    canvas.paste(im, (int(w * 0.05), int(h * 0.1)))
    ImageDraw.Draw(canvas).text((int(w * 1.2), 5), "SUMMER SALE", fill=(255, 255, 0))
    return canvas


def _screenshot(im):
    shot = im.resize((im.width * 2 // 3, im.height * 2 // 3))
    canvas = Image.new("RGB", (shot.width + 20, shot.height + 50), (240, 240, 240))
    ImageDraw.Draw(canvas).rectangle((0, 0, canvas.width, 30), fill=(200, 200, 205))
    canvas.paste(shot, (10, 40))
    return canvas


FAMILIES = {
    "resize_200": lambda im, o: jpeg(im.resize((200, round(200 * im.height / im.width)))),
    "jpeg_20": lambda im, o: jpeg(im, 20),
    "blur": lambda im, o: jpeg(im.filter(ImageFilter.GaussianBlur(2))),
    "grayscale": lambda im, o: jpeg(ImageOps.grayscale(im)),
    "colour": lambda im, o: jpeg(_colour(im)),
    "watermark": lambda im, o: jpeg(_watermark(im)),
    "flip": lambda im, o: jpeg(ImageOps.mirror(im)),
    "rotate_90": lambda im, o: jpeg(im.transpose(Image.Transpose.ROTATE_90)),
    "rotate_180": lambda im, o: jpeg(im.transpose(Image.Transpose.ROTATE_180)),
    "rotate_3": lambda im, o: jpeg(im.rotate(3, resample=Image.BICUBIC)),
    "crop_5": lambda im, o: jpeg(_crop(im, .05, .05, .05, .05)),
    "crop_10": lambda im, o: jpeg(_crop(im, .1, .1, .1, .1)),
    "crop_20": lambda im, o: jpeg(_crop(im, .2, .2, .2, .2)),
    "crop_asymmetric": lambda im, o: jpeg(_crop(im, .1, 0, 0, .2)),
    "padding": lambda im, o: jpeg(_pad(im)),
    "letterbox": lambda im, o: jpeg(_letterbox(im)),
    "composite": lambda im, o: jpeg(_composite(im, o)),
    "screenshot": lambda im, o: jpeg(_screenshot(im), 75),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_transform_family_matches_its_photo(family, photos, index):
    hits = 0
    for name in CATALOG[:2]:
        found = FAMILIES[family](photos[name], photos[OTHERS[0]])
        matches = index.query(hash_image(found))
        assert all(m.photo_id == name for m in matches[:1]), (family, name, matches)
        hits += bool(matches) and matches[0].photo_id == name
    assert hits == 2, family


def test_match_explains_itself(photos, index):
    flipped = index.query(hash_image(jpeg(ImageOps.mirror(photos["Kleiber_by_Lukas_Baubkus"]))))[0]
    assert flipped.photo_id == "Kleiber_by_Lukas_Baubkus" and flipped.details.get("flipped") is True
    assert flipped.transform == "flip_horizontal"
    cropped = index.query(hash_image(jpeg(_crop(photos["Wood"], .1, .1, .1, .1))))[0]
    assert cropped.method == "phash_crop" and cropped.details["crop_pct"] == 10
    assert "region_catalog_frac" in cropped.details and 55 < cropped.details["overlap_pct"] < 70
    rotated = index.query(hash_image(jpeg(photos["Kleiber_by_Lukas_Baubkus"].transpose(Image.Transpose.ROTATE_90))))[0]
    assert rotated.transform in ("rotate_90", "rotate_270")


def test_other_photos_and_their_edits_do_not_match(photos, index):
    for name in OTHERS:
        im = photos[name]
        for found in (jpeg(im), jpeg(ImageOps.mirror(im)), jpeg(_crop(im, .1, .1, .1, .1)), jpeg(_pad(im))):
            assert index.query(hash_image(found)) == [], name


def test_add_remove_is_incremental(photos):
    from lightbox.matching import CatalogIndex

    idx = CatalogIndex()
    h = hash_image(jpeg(photos["Aqua"]))
    idx.add("a", h)
    idx.add("b", hash_image(jpeg(photos["Wood"])))
    assert len(idx) == 2
    assert [m.photo_id for m in idx.query(hash_image(jpeg(photos["Aqua"], 60)))] == ["a"]
    idx.remove("a")
    assert len(idx) == 1 and idx.query(hash_image(jpeg(photos["Aqua"], 60))) == []
    idx.add("a", h)
    assert [m.photo_id for m in idx.query(hash_image(jpeg(photos["Aqua"], 60)))] == ["a"]


def test_record_roundtrip_keeps_matching(photos):
    from lightbox.matching import CatalogIndex, HashResult

    h = hash_image(jpeg(photos["GreenMeadow"]), catalog=True)
    back = HashResult.from_record(h.to_record())
    assert (back.h64 == h.h64).all() and (back.h256 == h.h256).all() and back.kinds == h.kinds
    assert len(back.desc) == len(h.desc) > 0
    idx = CatalogIndex()
    idx.add("g", back)
    assert idx.query(hash_image(jpeg(_crop(photos["GreenMeadow"], .2, .2, .2, .2))))[0].photo_id == "g"


def test_verify_match_reports_regions(photos):
    from lightbox.matching import verify_match

    im = photos["Kleiber_by_Lukas_Baubkus"]
    catalog = jpeg(im)
    found = jpeg(_composite(_crop(im, .1, .1, .1, .1), photos["Garden"]))
    res = verify_match(catalog, found)
    assert res is not None and res["inliers"] >= 20
    x0, y0, x1, y1 = res["region_catalog"]
    w, h = im.size
    # where the pixels agree: the part that was used (10 % off each side), give or take
    # what flat backgrounds leave ambiguous
    assert 0.0 <= x0 < 0.15 * w and 0.85 * w < x1 <= 0.95 * w and abs(y1 - 0.9 * h) < 0.05 * h
    assert 55 < res["overlap_pct"] < 80 and res["found_coverage_pct"] < 75
    assert verify_match(catalog, jpeg(photos["RainDrops"])) is None
    flipped = verify_match(catalog, jpeg(ImageOps.mirror(im)))
    assert flipped is not None and flipped["flipped"] is True


def test_pickled_result_still_matches_and_verifies(photos, index):
    import pickle

    im = photos["Wood"]
    found = _composite(_crop(im, 0.15, 0.0, 0.0, 0.2), photos["LadyBird"])
    h = pickle.loads(pickle.dumps(hash_image(jpeg(found))))
    assert h._gray is None and h._data is not None
    assert index.query(h)[0].photo_id == "Wood"
    assert h.ensure_features()

"""Pixel features see what an inspector sees at 100% zoom: one photo per defect, degraded
from a sample photo by a known amount, is named by that defect (and only a clean photo by
none); bad files give a reason."""
import pytest
from aiscan_market import make_jpeg

from lightbox.seed.aiscan import Degradation, render
from ml.pixels import PIXEL_FEATURES, PixelError, defects, jpeg_quality, pixel_features


def _photo(**degradation) -> dict:
    from lightbox.seed.images import sample_files

    base = next(p for p in sample_files() if p.stem == "LadyBird")
    return pixel_features(render(base, (0.1, 0.1, 0.8, 0.8), 1200, Degradation(**degradation), noise_seed=3))


def _named(feats) -> str:
    return " | ".join(text for _, text in defects(feats))


@pytest.mark.parametrize("degradation, words", [
    ({"blur_sigma": 3.0}, "out of focus in the most detailed areas"),
    ({"noise_sigma": 22.0}, "strong sensor noise"),
    ({"exposure_stops": -2.5}, "underexposed"),
    ({"exposure_stops": 2.5}, "highlights clipped on"),
    ({"downscale": 4.0}, "resolution too low"),
    ({"jpeg_quality": 10}, "heavy JPEG compression"),
])
def test_each_defect_is_named(degradation, words):
    feats = _photo(**degradation)
    assert set(feats) == set(PIXEL_FEATURES)
    assert words in _named(feats), (degradation, _named(feats))


def test_a_clean_photo_has_no_defect():
    assert defects(_photo()) == []


def test_measures_follow_the_degradation():
    clean, noisy, soft = _photo(), _photo(noise_sigma=12.0), _photo(blur_sigma=1.5)
    assert noisy["px_noise"] > clean["px_noise"] + 5  # grey levels
    assert soft["px_sharp_fine"] < clean["px_sharp_fine"]
    assert _photo(jpeg_quality=30)["px_jpeg_quality"] == pytest.approx(30, abs=2)
    assert clean["px_width"] == 1200 and clean["px_megapixels"] == pytest.approx(0.9, abs=0.01)


def test_jpeg_quality_from_quantization_tables():
    import io

    from PIL import Image

    for q in (15, 50, 75, 95):
        img = Image.open(io.BytesIO(make_jpeg("sharp", 1, quality=q)))
        assert jpeg_quality(img.quantization) == pytest.approx(q, abs=1.5)
    assert jpeg_quality(None) != jpeg_quality(None)  # NaN for files without tables


def test_reduced_decode_reports_native_sizes():
    from lightbox.config import REPO_ROOT

    data = next((REPO_ROOT / "include" / "sample_photos").glob("*.jpg")).read_bytes()
    full, half = pixel_features(data), pixel_features(data, reduce=2)
    assert full["px_width"] == half["px_width"] and full["px_megapixels"] > 1
    assert half["px_effective_megapixels"] <= half["px_megapixels"] / 4 + 1e-9  # detail finer than decoded is not seen


@pytest.mark.parametrize("data, reason", [(b"", "empty"), (b"not an image at all", "cannot be decoded"),
                                          (make_jpeg("sharp", 1)[:200], "cannot be decoded")])
def test_bad_files_raise_with_reason(data, reason):
    with pytest.raises(PixelError, match=reason):
        pixel_features(data)

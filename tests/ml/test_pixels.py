"""Pixel features tell sharp from blurred from dark, and bad files give a reason."""
import pytest

from ml.pixels import PIXEL_FEATURES, PixelError, pixel_features
from aiscan_market import make_jpeg


def test_sharp_blurred_dark_differ():
    sharp, blurred, dark = (pixel_features(make_jpeg(k, seed=5)) for k in ("sharp", "blurred", "dark"))
    assert set(sharp) == set(PIXEL_FEATURES)
    assert sharp["px_sharpness"] > blurred["px_sharpness"] + 1
    assert dark["px_brightness"] < 0.2 < sharp["px_brightness"]
    assert dark["px_clip_dark"] > sharp["px_clip_dark"]
    assert sharp["px_width"] == 160 and sharp["px_height"] == 120


def test_large_photo_decodes_reduced(tmp_path):
    from lightbox.config import REPO_ROOT

    photo = next((REPO_ROOT / "include" / "sample_photos").glob("*.jpg"))
    feats = pixel_features(photo.read_bytes())
    assert feats["px_megapixels"] > 1 and feats["px_jpeg_quant"] > 0


@pytest.mark.parametrize("data, reason", [(b"", "empty"), (b"not an image at all", "cannot be decoded"),
                                          (make_jpeg("sharp", 1)[:200], "cannot be decoded")])
def test_bad_files_raise_with_reason(data, reason):
    with pytest.raises(PixelError, match=reason):
        pixel_features(data)

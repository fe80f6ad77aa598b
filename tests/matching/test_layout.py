"""Layout analysis: region proposals find a photo pasted into a banner, on light, dark and
coloured backgrounds."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from lightbox.matching import hashing
from lightbox.matching.decode import decode

from .conftest import jpeg


def _banner(photo: Image.Image, background) -> Image.Image:
    w, h = photo.size
    canvas = Image.new("RGB", (int(w * 1.6), int(h * 1.3)), background)
    canvas.paste(photo, (int(w * 0.45), int(h * 0.15)))
    return canvas


@pytest.mark.parametrize("background", [(200, 40, 160), (250, 250, 250), (20, 20, 20)])
def test_a_pasted_photo_is_proposed(photos, background):
    for name in ("Kleiber_by_Lukas_Baubkus", "Aqua", "Wood"):
        ycc = decode(jpeg(_banner(photos[name], background)), long_side=256, mode="YCbCr")
        y = np.ascontiguousarray(ycc[:, :, 0])
        h, w = y.shape
        truth = np.array([0.45 / 1.6, 0.15 / 1.3, 1.45 / 1.6, 1.15 / 1.3]) * [w, h, w, h]

        def iou(r):
            ix = max(0, min(r[2], truth[2]) - max(r[0], truth[0]))
            iy = max(0, min(r[3], truth[3]) - max(r[1], truth[1]))
            union = (r[2] - r[0]) * (r[3] - r[1]) + (truth[2] - truth[0]) * (truth[3] - truth[1]) - ix * iy
            return ix * iy / union

        proposals = hashing.region_proposals(y, (0, 0, w, h), (ycc[:, :, 1], ycc[:, :, 2]))
        assert max((iou(r) for r in proposals), default=0.0) > 0.95, (name, background, proposals)

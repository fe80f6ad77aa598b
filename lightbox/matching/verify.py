"""Local-feature verification: ORB keypoints matched between a catalogue photo and a found
image, a similarity transform (rotation, scale, translation) fitted with RANSAC, and the
matched regions in both images with the overlap percentage.

Used twice: inside :class:`~lightbox.matching.index.CatalogIndex` to confirm candidates the
hashes alone cannot decide (composites, asymmetric crops, small rotations, heavy overlays),
from the compact ORB features stored in every :class:`HashResult`; and by
:func:`verify_match` on the full images to draw the evidence picture.
"""
from __future__ import annotations

import numpy as np

from lightbox.matching.decode import decode

MIN_INLIERS = 20  # chosen from the benchmark: distractors stay below, see docs/matching.md
MIN_INLIER_RATIO = 0.25
RATIO_TEST = 0.8


def orb_features(gray: np.ndarray, n_features: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """(keypoints as (n, 2) float32 pixel coordinates, descriptors (n, 32) uint8)."""
    import cv2

    orb = cv2.ORB_create(nfeatures=n_features, scaleFactor=1.2, nlevels=6, edgeThreshold=15, patchSize=15, fastThreshold=5)
    kps, desc = orb.detectAndCompute(np.ascontiguousarray(gray, dtype=np.uint8), None)
    if desc is None or len(kps) == 0:
        return np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
    pts = np.array([k.pt for k in kps], dtype=np.float32)
    return pts, desc


def fit(pts_cat: np.ndarray, desc_cat: np.ndarray, pts_found: np.ndarray, desc_found: np.ndarray) -> dict | None:
    """RANSAC similarity from found-image points to catalogue points. Returns
    {"inliers", "ratio", "matrix" (2x3, found -> catalogue), "src", "dst"} or None."""
    import cv2

    if len(desc_cat) < 8 or len(desc_found) < 8:
        return None
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(desc_found, desc_cat, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO_TEST * p[1].distance]
    if len(good) < MIN_INLIERS:
        return None
    src = pts_found[[m.queryIdx for m in good]]
    dst = pts_cat[[m.trainIdx for m in good]]
    matrix, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=4.0,
                                               maxIters=2000, confidence=0.99)
    if matrix is None:
        return None
    inl = mask.ravel().astype(bool)
    n = int(inl.sum())
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    if n < MIN_INLIERS or n / len(good) < MIN_INLIER_RATIO or not (0.05 < scale < 20):
        return None
    # inliers must spread over an area, not sit on one blob
    spread = np.ptp(dst[inl], axis=0)
    if spread.min() < 8:
        return None
    return {"inliers": n, "ratio": n / len(good), "matrix": matrix, "src": src[inl], "dst": dst[inl], "scale": scale}


def regions(fitres: dict, cat_size: tuple[int, int], found_size: tuple[int, int]) -> dict:
    """Matched regions (x0, y0, x1, y1 in pixels of each image) and overlap percentages."""
    import cv2

    cw, ch = cat_size
    fw, fh = found_size
    m = fitres["matrix"]
    inv = cv2.invertAffineTransform(m)
    found_corners = np.array([[0, 0], [fw, 0], [fw, fh], [0, fh]], np.float32)
    cat_corners = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], np.float32)
    in_cat = found_corners @ m[:, :2].T + m[:, 2]
    in_found = cat_corners @ inv[:, :2].T + inv[:, 2]

    def box(pts, w, h):
        x0, y0 = np.clip(pts.min(axis=0), 0, [w, h])
        x1, y1 = np.clip(pts.max(axis=0), 0, [w, h])
        return [int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1))]

    # the matched region: where the inlier keypoints are (a composite's corners project far
    # outside the photo, so the projected frame alone would overstate it), clipped to the
    # projected frame of the other image
    rc = _intersect(box(fitres["dst"], cw, ch), box(in_cat, cw, ch))
    rf = _intersect(box(fitres["src"], fw, fh), box(in_found, fw, fh))
    area = lambda r: max(0, r[2] - r[0]) * max(0, r[3] - r[1])  # noqa: E731
    angle = float(np.degrees(np.arctan2(m[1, 0], m[0, 0])))
    return {
        "region_catalog": rc,
        "region_found": rf,
        "overlap_pct": round(100.0 * area(rc) / max(cw * ch, 1), 1),  # share of the photo that was used
        "found_coverage_pct": round(100.0 * area(rf) / max(fw * fh, 1), 1),  # share of the found image it fills
        "rotation_deg": round(angle, 1),
        "scale": round(fitres["scale"], 3),
        "inliers": fitres["inliers"],
    }


def agreeing_region(cat: np.ndarray, found: np.ndarray, matrix: np.ndarray, tol: float = 0.25) -> list[int] | None:
    """Bounding box (catalogue pixels) of where the found image, warped onto the catalogue
    photo with ``matrix``, shows the same picture: rows and columns in which most warped
    pixels agree with the photo after normalising brightness and contrast."""
    import cv2

    ch, cw = cat.shape
    warped = cv2.warpAffine(found.astype(np.float32), matrix, (cw, ch), flags=cv2.INTER_LINEAR)
    valid = cv2.warpAffine(np.ones_like(found, np.float32), matrix, (cw, ch), flags=cv2.INTER_NEAREST) > 0.5
    if valid.sum() < 0.02 * cw * ch:
        return None
    a = cv2.GaussianBlur(cat.astype(np.float32), (0, 0), 2.0)
    b = cv2.GaussianBlur(warped, (0, 0), 2.0)
    am, asd = a[valid].mean(), a[valid].std() + 1e-3
    bm, bsd = b[valid].mean(), b[valid].std() + 1e-3
    agree = valid & (np.abs((a - am) / asd - (b - bm) / bsd) < tol * 2)
    cols = agree.mean(axis=0) > 0.5 * valid.mean(axis=0).clip(min=1e-6)
    rows = agree.mean(axis=1) > 0.5 * valid.mean(axis=1).clip(min=1e-6)
    cols &= valid.any(axis=0)
    rows &= valid.any(axis=1)
    if cols.sum() < 8 or rows.sum() < 8:
        return None
    # the largest run of agreeing columns/rows (a copy is one rectangle)
    x0, x1 = _longest_true_run(cols)
    y0, y1 = _longest_true_run(rows)
    return [int(x0), int(y0), int(x1), int(y1)]


def _longest_true_run(mask: np.ndarray) -> tuple[int, int]:
    best, start = (0, 0), None
    for i, v in enumerate(np.append(mask, False)):
        if v and start is None:
            start = i
        elif not v and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    return best


def _intersect(a, b):
    return [max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])]


def verify_match(catalog_bytes: bytes, found_bytes: bytes, long_side: int = 800) -> dict | None:
    """Verify that ``found_bytes`` shows (part of) ``catalog_bytes`` with ORB + RANSAC on
    both images decoded through the same path as hashing. Tries the found image as is and
    mirrored. Returns the matched region in both images (pixels of the EXIF-oriented images
    at their full size), the overlap percentage, rotation, scale, whether it was flipped and
    the inlier count; None when not verified. Raises BadImage for undecodable input."""
    from lightbox.matching.decode import open_image

    cat = decode(catalog_bytes, long_side=long_side, mode="L")
    found = decode(found_bytes, long_side=long_side, mode="L")
    cat_full = _oriented_size(open_image(catalog_bytes))
    found_full = _oriented_size(open_image(found_bytes))
    pc, dc = orb_features(cat, 1500)
    best = None
    for flipped in (False, True):
        img = found[:, ::-1] if flipped else found
        pf, df = orb_features(np.ascontiguousarray(img), 1500)
        res = fit(pc, dc, pf, df)
        if res is not None and (best is None or res["inliers"] > best[0]["inliers"]):
            best = (res, flipped)
    if best is None:
        return None
    res, flipped = best
    out = regions(res, (cat.shape[1], cat.shape[0]), (found.shape[1], found.shape[0]))
    fimg = np.ascontiguousarray(found[:, ::-1] if flipped else found)
    agreed = agreeing_region(cat, fimg, res["matrix"])
    if agreed is not None:  # pixel-level extent of the copy beats the keypoint hull
        import cv2

        rc = agreed
        inv = cv2.invertAffineTransform(res["matrix"])
        corners = np.array([[rc[0], rc[1]], [rc[2], rc[1]], [rc[2], rc[3]], [rc[0], rc[3]]], np.float32)
        pts = corners @ inv[:, :2].T + inv[:, 2]
        fw, fh = found.shape[1], found.shape[0]
        x0, y0 = np.clip(pts.min(axis=0), 0, [fw, fh])
        x1, y1 = np.clip(pts.max(axis=0), 0, [fw, fh])
        out["region_catalog"] = rc
        out["region_found"] = [int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1))]
        cw, ch = cat.shape[1], cat.shape[0]
        out["overlap_pct"] = round(100.0 * (rc[2] - rc[0]) * (rc[3] - rc[1]) / (cw * ch), 1)
        out["found_coverage_pct"] = round(float(100.0 * (x1 - x0) * (y1 - y0) / (fw * fh)), 1)
        out["region_from"] = "pixels"
    else:
        out["region_from"] = "keypoints"
    sx_c, sy_c = cat_full[0] / cat.shape[1], cat_full[1] / cat.shape[0]
    sx_f, sy_f = found_full[0] / found.shape[1], found_full[1] / found.shape[0]
    rc, rf = out["region_catalog"], out["region_found"]
    out["region_catalog"] = [round(rc[0] * sx_c), round(rc[1] * sy_c), round(rc[2] * sx_c), round(rc[3] * sy_c)]
    if flipped:  # regions in the found image as it is, not mirrored
        fw = found.shape[1]
        rf = [fw - rf[2], rf[1], fw - rf[0], rf[3]]
    out["region_found"] = [round(rf[0] * sx_f), round(rf[1] * sy_f), round(rf[2] * sx_f), round(rf[3] * sy_f)]
    out["flipped"] = flipped
    out["catalog_size"] = list(cat_full)
    out["found_size"] = list(found_full)
    return out


def _oriented_size(im) -> tuple[int, int]:
    w, h = im.size
    try:
        orientation = im.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - broken EXIF: size as stored
        orientation = 1
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)

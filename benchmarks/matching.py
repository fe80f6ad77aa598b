"""The matching engine's benchmark (issue 3): recall per transform family and false matches
at the published thresholds, hashing throughput, index query throughput and exact search
at 10 million hashes, each beside a baseline measured in the same run. Prints JSON lines.

    .venv/bin/python benchmarks/matching.py                 # the committed run (about 15 min)
    .venv/bin/python benchmarks/matching.py --calibrate     # the threshold calibration set

Catalogue: every other sample photo by name (8), as delivered (1280-2400 px JPEGs).
Queries: every catalogue photo under every transform family, ``--reps`` times, each from its
own seeded random generator. Distractors: ``--distractors`` different pictures made only from
the other 8 photos (random crops 1-100 %, scales, flips, rotations, grey, colour, blur,
banners, JPEG 40-95). The thresholds in ``lightbox.matching.index`` were chosen on the
calibration set (``--calibrate``: other query seeds, distractor seeds 1..N); the default run
evaluates them on held-out seeds. Baseline: ``imagehash.phash`` (hash_size 8, full decode),
Hamming distance <= 10, on the same images.

The transform families and the distractor generator are plain functions of a Pillow image
and a ``random.Random``."""
from __future__ import annotations

import io
import os
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

REPO = Path(__file__).resolve().parent.parent
PHOTOS = REPO / "include" / "sample_photos"
WORDS = ["SALE", "Summer", "© stock", "BUY NOW", "Holiday 2026", "news", "sample", "-40%", "travel blog"]


def load_photos(long_side: int = 0) -> dict[str, Image.Image]:
    """The sample photos sorted by name: as delivered, or downscaled to ``long_side`` px on
    their long side when it is given (quicker runs while developing)."""
    out = {}
    for path in sorted(PHOTOS.glob("*.jpg")):
        im = Image.open(path)
        if long_side:
            im.draft("RGB", (long_side, long_side))
        im = im.convert("RGB")
        if long_side:
            im.thumbnail((long_side, long_side), Image.LANCZOS)
        out[path.stem] = im
    return out


def split_photos(photos: dict[str, Image.Image]) -> tuple[dict, dict]:
    """Catalogue = every other photo by name (8), distractor sources = the other 8."""
    names = sorted(photos)
    cat = {n: photos[n] for n in names[0::2]}
    dis = {n: photos[n] for n in names[1::2]}
    return cat, dis


def jpeg(im: Image.Image, q: int = 85) -> bytes:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=q)
    return buf.getvalue()


def png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # old Pillow
        return ImageFont.load_default()


def _rand_colour(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randrange(256), rng.randrange(256), rng.randrange(256))


def crop_frac(im: Image.Image, l: float, t: float, r: float, b: float) -> Image.Image:
    w, h = im.size
    return im.crop((round(l * w), round(t * h), round(w - r * w), round(h - b * h)))


def t_resize(im, rng):
    s = 200 / max(im.size)
    return jpeg(im.resize((max(1, round(im.width * s)), max(1, round(im.height * s))), Image.LANCZOS), 90)


def t_jpeg(im, rng):
    return jpeg(im, rng.randint(20, 95))


def t_blur(im, rng):
    return jpeg(im.filter(ImageFilter.GaussianBlur(rng.uniform(1.5, 3.0))))


def t_grayscale(im, rng):
    return jpeg(ImageOps.grayscale(im))


def t_colour(im, rng):
    out = ImageEnhance.Color(im).enhance(rng.uniform(0.3, 1.8))
    out = ImageEnhance.Brightness(out).enhance(rng.uniform(0.75, 1.25))
    out = ImageEnhance.Contrast(out).enhance(rng.uniform(0.7, 1.3))
    gamma = rng.uniform(0.6, 1.6)
    out = out.point(lambda v: int(255 * ((v / 255) ** gamma)))
    return jpeg(out)


def t_watermark(im, rng):
    out = im.convert("RGBA")
    layer = Image.new("RGBA", out.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    w, h = out.size
    size = max(12, h // 10)
    text = rng.choice(WORDS)
    d.text((w * rng.uniform(0.05, 0.4), h * rng.uniform(0.3, 0.7)), text, font=_font(size), fill=(255, 255, 255, 140))
    # a logo: filled badge with a letter in a corner
    lw = max(16, w // 8)
    lx, ly = rng.choice([(8, 8), (w - lw - 8, 8), (8, h - lw - 8), (w - lw - 8, h - lw - 8)])
    d.ellipse((lx, ly, lx + lw, ly + lw), fill=(*_rand_colour(rng), 200))
    d.text((lx + lw // 4, ly + lw // 5), "L", font=_font(lw // 2), fill=(255, 255, 255, 230))
    return jpeg(Image.alpha_composite(out, layer))


def t_flip(im, rng):
    return jpeg(ImageOps.mirror(im))


def t_rotate_90(im, rng):
    return jpeg(im.transpose(Image.Transpose.ROTATE_90))


def t_rotate_180(im, rng):
    return jpeg(im.transpose(Image.Transpose.ROTATE_180))


def t_rotate_3(im, rng):
    angle = rng.choice([-3.0, 3.0])
    expand = rng.random() < 0.5
    return jpeg(im.rotate(angle, resample=Image.BICUBIC, expand=expand, fillcolor=(0, 0, 0) if rng.random() < 0.5 else (255, 255, 255)))


def t_crop_5(im, rng):
    return jpeg(crop_frac(im, 0.05, 0.05, 0.05, 0.05))


def t_crop_10(im, rng):
    return jpeg(crop_frac(im, 0.10, 0.10, 0.10, 0.10))


def t_crop_20(im, rng):
    return jpeg(crop_frac(im, 0.20, 0.20, 0.20, 0.20))


def t_crop_asym(im, rng):
    sides = [rng.uniform(0.0, 0.2) for _ in range(4)]
    sides[rng.randrange(4)] = 0.0
    return jpeg(crop_frac(im, *sides))


def t_pad(im, rng):
    w, h = im.size
    colour = rng.choice([(0, 0, 0), (255, 255, 255), _rand_colour(rng)])
    if rng.random() < 0.5:  # padding on every side, up to 20 %
        l, t, r, b = (round(rng.uniform(0.02, 0.20) * s) for s in (w, h, w, h))
    else:  # letterbox / pillarbox to a square or 16:9 frame
        target = rng.choice([1.0, 16 / 9, 9 / 16])
        if w / h > target:
            extra = round(w / target) - h
            extra = min(extra, round(0.4 * h))
            l = r = 0
            t = extra // 2
            b = extra - t
        else:
            extra = min(round(h * target) - w, round(0.4 * w))
            t = b = 0
            l = extra // 2
            r = extra - l
    canvas = Image.new("RGB", (w + l + r, h + t + b), colour)
    canvas.paste(im, (l, t))
    return jpeg(canvas)


def make_banner(im: Image.Image, others: list[Image.Image], rng: random.Random, area: float) -> Image.Image:
    """A banner where ``im`` (kept whole, aspect kept) covers ``area`` of the canvas, the rest
    is other imagery, flat colour and text."""
    aspect_canvas = rng.uniform(1.2, 3.0) if rng.random() < 0.7 else rng.uniform(0.6, 1.0)
    pw, ph = im.size
    # choose canvas so that photo area / canvas area = area
    canvas_area = pw * ph / area
    cw = int((canvas_area * aspect_canvas) ** 0.5)
    ch = int(canvas_area / cw)
    scale = 1.0
    if pw > cw or ph > ch:  # photo must fit: shrink the photo, keep the area fraction
        scale = min(cw / pw, ch / ph) * 0.98
        pw, ph = int(pw * scale), int(ph * scale)
        cw, ch = int(cw * scale), int(ch * scale)
        cw, ch = max(cw, pw), max(ch, ph)
    photo = im.resize((pw, ph), Image.LANCZOS) if scale != 1.0 else im
    canvas = Image.new("RGB", (cw, ch), _rand_colour(rng))
    d = ImageDraw.Draw(canvas)
    for other in others:  # other imagery in the free space
        ow, oh = max(16, int(cw * rng.uniform(0.2, 0.5))), max(16, int(ch * rng.uniform(0.3, 0.8)))
        piece = other.resize((ow, oh))
        canvas.paste(piece, (rng.randrange(0, max(1, cw - ow)), rng.randrange(0, max(1, ch - oh))))
    px, py = rng.randrange(0, cw - pw + 1), rng.randrange(0, ch - ph + 1)
    canvas.paste(photo, (px, py))
    for _ in range(2):
        d.text((rng.randrange(0, max(1, cw - 100)), rng.randrange(0, max(1, ch - 30))), rng.choice(WORDS),
               font=_font(max(12, ch // 12)), fill=_rand_colour(rng))
    return canvas


def make_composite_family(others: list[Image.Image]):
    def t_composite(im, rng):
        k = rng.randint(1, 2)
        return jpeg(make_banner(im, rng.sample(others, k), rng, rng.uniform(0.4, 0.7)), 85)

    return t_composite


def t_screenshot(im, rng):
    s = rng.uniform(0.4, 0.9)
    shot = im.resize((max(8, round(im.width * s)), max(8, round(im.height * s))), Image.BILINEAR)
    bar = max(12, round(shot.height * rng.uniform(0.04, 0.10)))
    border = round(shot.width * rng.uniform(0.01, 0.05))
    colour = rng.choice([(240, 240, 240), (32, 33, 36), (255, 255, 255)])
    canvas = Image.new("RGB", (shot.width + 2 * border, shot.height + bar + 2 * border), colour)
    d = ImageDraw.Draw(canvas)
    d.rectangle((0, 0, canvas.width, bar), fill=(200, 200, 205) if colour[0] > 128 else (60, 60, 64))
    d.text((border + 4, 2), "https://example.org/gallery  ×", font=_font(max(10, bar - 4)), fill=(20, 20, 20))
    canvas.paste(shot, (border, bar + border))
    return jpeg(canvas, rng.randint(60, 90))


def families(distractor_images: list[Image.Image]) -> dict:
    return {
        "resize_200": t_resize,
        "jpeg_20_95": t_jpeg,
        "blur": t_blur,
        "grayscale": t_grayscale,
        "colour_gamma_saturation": t_colour,
        "watermark_logo": t_watermark,
        "flip_horizontal": t_flip,
        "rotate_90": t_rotate_90,
        "rotate_180": t_rotate_180,
        "rotate_3deg": t_rotate_3,
        "crop_5": t_crop_5,
        "crop_10": t_crop_10,
        "crop_20": t_crop_20,
        "crop_asymmetric": t_crop_asym,
        "pad_letterbox_20": t_pad,
        "composite": make_composite_family(distractor_images),
        "screenshot": t_screenshot,
    }


def make_distractor(sources: list[Image.Image], rng: random.Random) -> bytes:
    """A different picture made only from distractor photos: random crop (1-100 % of the
    area), scale, edits, sometimes a banner of two of them."""
    im = rng.choice(sources)
    w, h = im.size
    area = rng.uniform(0.01, 1.0)
    aspect = rng.uniform(0.5, 2.0)
    cw = max(32, min(w, int((area * w * h * aspect) ** 0.5)))
    ch = max(32, min(h, int(area * w * h / cw)))
    x, y = rng.randrange(0, w - cw + 1), rng.randrange(0, h - ch + 1)
    out = im.crop((x, y, x + cw, y + ch))
    scale = rng.uniform(0.2, 1.0) * min(1.0, 800 / max(out.size))
    out = out.resize((max(32, int(out.width * scale)), max(32, int(out.height * scale))), Image.BILINEAR)
    r = rng.random()
    if r < 0.15:
        out = ImageOps.mirror(out)
    elif r < 0.25:
        out = out.rotate(rng.uniform(-10, 10), resample=Image.BILINEAR, expand=rng.random() < 0.5)
    elif r < 0.35:
        out = ImageOps.grayscale(out).convert("RGB")
    elif r < 0.45:
        out = ImageEnhance.Color(out).enhance(rng.uniform(0.3, 1.8))
    elif r < 0.55:
        out = out.filter(ImageFilter.GaussianBlur(rng.uniform(1, 3)))
    elif r < 0.65:
        out = make_banner(out, [rng.choice(sources)], rng, rng.uniform(0.4, 0.7))
    elif r < 0.72:
        out = out.transpose(rng.choice([Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180]))
    return jpeg(out, rng.randint(40, 95))


# ----------------------------------------------------------------------------------------
# The benchmark (python benchmarks/matching.py): prints JSON lines.
# ----------------------------------------------------------------------------------------
BASELINE = "imagehash.phash hash_size=8, full decode, hamming<=10"
BASELINE_RADIUS = 10
# issue 3's recall targets per family (crop_asymmetric crops up to 20 % a side: the 20 % target)
TARGETS = {
    "resize_200": 0.99, "jpeg_20_95": 0.99, "blur": 0.99, "grayscale": 0.99, "colour_gamma_saturation": 0.99,
    "watermark_logo": 0.99, "flip_horizontal": 0.99, "rotate_90": 0.99, "rotate_180": 0.99, "rotate_3deg": 0.90,
    "crop_5": 0.95, "crop_10": 0.95, "crop_20": 0.85, "crop_asymmetric": 0.85, "pad_letterbox_20": 0.95,
    "composite": 0.80, "screenshot": None,
}
OVERALL_TARGET = 0.95
EVAL_DISTRACTOR_SEED0 = 1_000_000  # evaluation distractors are seeds 1,000,001..; calibration 1..N
WIDE_RADIUS = 16  # distractor candidates up to this 64-bit distance describe the 256-bit tail
SIZE_CLASSES = ((0, 400, "<=400px"), (401, 1200, "401-1200px"), (1201, 10**9, ">1200px"))
_W: dict = {}


def _emit(obj: dict) -> None:
    import json

    print(json.dumps(obj), flush=True)


def _baseline_hash(data: bytes):
    import imagehash

    return imagehash.phash(Image.open(io.BytesIO(data)), hash_size=8)


def _init_worker(long_side: int, calibrate: bool) -> None:
    """Each worker process builds the catalogue itself (hashing 8 photos is quicker than
    shipping an index)."""
    from lightbox.matching import CatalogIndex, hash_image

    photos = load_photos(long_side)
    cat, dis = split_photos(photos)
    index, single, baseline = CatalogIndex(), {}, {}
    for pid, im in cat.items():
        data = (PHOTOS / f"{pid}.jpg").read_bytes() if not long_side else jpeg(im, 92)
        h = hash_image(data, catalog=True)
        index.add(pid, h)
        one = CatalogIndex()
        one.add(pid, h)
        single[pid] = one
        baseline[pid] = _baseline_hash(data)
    sources = list(dis.values())
    _W.update(index=index, single=single, baseline=baseline, cat=cat, sources=sources, fams=families(sources),
              calibrate=calibrate)


def _probe(h, index) -> dict:
    """Per (catalogue kind / query kind) pair: the smallest 64-bit distance to any catalogue
    hash, the smallest 256-bit distance among candidates within the search radius, and
    within ``WIDE_RADIUS`` (what the thresholds are chosen from)."""
    import numpy as np

    from lightbox.matching.index import CATALOG_KINDS, QUERY_KINDS, _h256_distance

    out = {}
    qrows = h.select(QUERY_KINDS)
    qi, ei, d64 = index._hidx.search_brute(h.h64[qrows], 64)
    d256 = _h256_distance(h.h256[qrows[qi]], index._h256.a[ei])
    qkinds = np.array([h.kinds[r] for r in qrows[qi]])
    ckinds = index._kind.a[ei]
    for ck, cname in enumerate(CATALOG_KINDS):
        for qk in QUERY_KINDS:
            sel = (ckinds == ck) & (qkinds == qk)
            if sel.any():
                near, wide = sel & (d64 <= index.radius), sel & (d64 <= WIDE_RADIUS)
                out[f"{cname}/{qk}"] = (int(d64[sel].min()), int(d256[near].min()) if near.any() else None,
                                        int(d256[wide].min()) if wide.any() else None)
    return out


def _query_job(job: tuple) -> dict:
    """One query: the catalogue photo ``pid`` under ``family``, from its own seed."""
    from lightbox.matching import hash_image

    family, rep, pid = job
    prefix = "cal" if _W["calibrate"] else "eval"
    data = _W["fams"][family](_W["cat"][pid], random.Random(f"{prefix}/{family}/{rep}/{pid}"))
    h = hash_image(data)
    matches = _W["index"].query(h)
    bh = _baseline_hash(data)
    dists = {p: bh - v for p, v in _W["baseline"].items()}
    best = min(dists, key=dists.get)
    top = matches[0] if matches else None
    return {"family": family, "rep": rep, "photo_id": pid, "found": top.photo_id if top else None,
            "method": top.method if top else None, "transform": top.transform if top else None,
            "baseline_found": best if dists[best] <= BASELINE_RADIUS else None,
            "probe": _probe(h, _W["single"][pid]), "bytes": len(data)}


def _distractor_job(seed: int) -> dict:
    from lightbox.matching import BadImage, hash_image

    data = make_distractor(_W["sources"], random.Random(seed))
    try:
        h = hash_image(data)
    except BadImage as exc:
        return {"seed": seed, "bad": exc.reason}
    matches = _W["index"].query(h)
    bh = _baseline_hash(data)
    return {
        "seed": seed,
        "matches": [(m.photo_id, m.method, m.distance) for m in matches],
        "baseline_min": int(min(bh - v for v in _W["baseline"].values())),
        "probe": _probe(h, _W["index"]) if h.matchable else {},
        "matchable": h.matchable,
    }


def recall_figures(results: list[dict]) -> list[dict]:
    from collections import Counter, defaultdict

    fam = defaultdict(lambda: {"n": 0, "ours": 0, "baseline": 0, "wrong": 0, "methods": Counter(), "missed": []})
    for r in results:
        row = fam[r["family"]]
        row["n"] += 1
        if r["found"] == r["photo_id"]:
            row["ours"] += 1
            row["methods"][r["method"]] += 1
        else:
            row["missed"].append(f"{r['photo_id']}#{r['rep']}")
            row["wrong"] += r["found"] is not None
        row["baseline"] += r["baseline_found"] == r["photo_id"]
    out = []
    for name, row in fam.items():
        target = TARGETS.get(name)
        recall = row["ours"] / row["n"]
        out.append({"figure": "recall", "family": name, "queries": row["n"], "recall": round(recall, 4),
                    "target": target, "meets_target": None if target is None else recall >= target,
                    "wrong_photo": row["wrong"], "missed": row["missed"], "methods": dict(row["methods"]),
                    "baseline": BASELINE, "baseline_recall": round(row["baseline"] / row["n"], 4)})
    n = sum(r["n"] for r in fam.values())
    ours = sum(r["ours"] for r in fam.values())
    out.append({"figure": "recall", "family": "overall", "queries": n, "recall": round(ours / n, 4),
                "target": OVERALL_TARGET, "meets_target": ours / n >= OVERALL_TARGET,
                "wrong_photo": sum(r["wrong"] for r in fam.values()), "baseline": BASELINE,
                "baseline_recall": round(sum(r["baseline"] for r in fam.values()) / n, 4)})
    return out


def threshold_figure(distractors: list[dict], queries: list[dict]) -> dict:
    """Per hash pair: the threshold, the nearest distractor, and a Gaussian fit of the
    distractor candidates' 256-bit distances (within ``WIDE_RADIUS``) with the false-match
    rate it predicts per found image against a catalogue of a million photos."""
    import math
    from collections import defaultdict

    import numpy as np

    from lightbox.matching.index import RADIUS, SUB_THRESHOLDS, THRESHOLDS

    limits = {f"{a}/{b}": v for (a, b), v in {**THRESHOLDS, **SUB_THRESHOLDS}.items()}
    near, wide, n_near = defaultdict(list), defaultdict(list), defaultdict(int)
    for d in distractors:
        for pair, (_, d_near, d_wide) in d.get("probe", {}).items():
            if d_near is not None:
                near[pair].append(d_near)
                n_near[pair] += 1
            if d_wide is not None:
                wide[pair].append(d_wide)
    genuine = defaultdict(list)  # the true photo's 256-bit distance per pair, when within the radius
    for q in queries:
        for pair, (_, d_near, _) in q["probe"].items():
            if d_near is not None:
                genuine[pair].append(d_near)
    n_images = max(1, len(distractors))
    n_photos = 8
    pairs = {}
    for pair, limit in sorted(limits.items()):
        w = np.asarray(wide[pair], float)
        row = {"threshold": limit, "distractor_images": n_images,
               "nearest_distractor_within_radius": min(near[pair]) if near[pair] else None,
               "nearest_distractor_within_wide_radius": int(w.min()) if len(w) else None,
               "genuine_within_radius": len(genuine[pair]),
               "genuine_at_or_under_threshold": sum(1 for v in genuine[pair] if v <= limit)}
        if len(w) >= 30:
            mean, sd = float(w.mean()), float(w.std())
            z = (limit - mean) / sd
            p_tail = 0.5 * math.erfc(-z / math.sqrt(2))
            # candidates within the search radius per found image and catalogue photo, times
            # the tail probability, times a million photos
            rate = n_near[pair] / (n_images * n_photos)
            row.update({"wide_candidates": len(w), "mean": round(mean, 1), "sd": round(sd, 1), "z": round(z, 1),
                        "candidates_within_radius_per_image_photo": rate,
                        "est_false_matches_per_image_vs_1M_photos": float(f"{rate * p_tail * 1e6:.2g}")})
        pairs[pair] = row
    return {"figure": "thresholds", "radius64": RADIUS, "wide_radius64": WIDE_RADIUS, "pairs": pairs,
            "rule": "threshold well below every distractor; the Gaussian tail of distractor candidates predicts "
                    "fewer than 1e-6 false matches per found image against a million photos"}


def _timed(fn, datas: list[bytes]) -> list[float]:
    import time

    out = []
    for d in datas:
        t = time.perf_counter()
        fn(d)
        out.append(time.perf_counter() - t)
    return out


def throughput(datas: list[bytes], rounds: int = 5) -> dict:
    """Images per second in one process, ours and the baseline timed image by image, back to
    back (machine noise hits both alike); medians over rounds. Also per size class, with the
    time our decode alone takes: the bound on any speed-up where decoding dominates."""
    import statistics

    import numpy as np

    from lightbox.matching import hash_image
    from lightbox.matching.decode import decode
    from lightbox.matching.hashing import WORK_SIDE

    ours, base, dec = [], [], []
    steps = (_baseline_hash, hash_image, lambda d: decode(d, long_side=WORK_SIDE, mode="YCbCr"))
    for _ in range(rounds):  # image by image, the three back to back: load changes hit all alike
        times = np.array([[t for fn in steps for t in _timed(fn, [d])] for d in datas])
        base.append(list(times[:, 0]))
        ours.append(list(times[:, 1]))
        dec.append(list(times[:, 2]))
    per_o, per_b, per_d = (np.median(np.asarray(x), axis=0) for x in (ours, base, dec))  # per image, median of rounds
    sides = [max(Image.open(io.BytesIO(d)).size) for d in datas]
    classes = {}
    for lo, hi, name in SIZE_CLASSES:
        sel = np.array([lo <= s <= hi for s in sides])
        if sel.any():
            classes[name] = {"images": int(sel.sum()), "baseline_ms": round(1000 * per_b[sel].mean(), 2),
                             "ours_ms": round(1000 * per_o[sel].mean(), 2), "ours_decode_ms": round(1000 * per_d[sel].mean(), 2),
                             "ratio": round(per_b[sel].sum() / per_o[sel].sum(), 2),
                             "decode_bound_ratio": round(per_b[sel].sum() / per_d[sel].sum(), 2)}
    ratios = [sum(b) / sum(o) for o, b in zip(ours, base)]
    return {
        "images": len(datas), "rounds": rounds,
        "ours_images_per_s": round(statistics.median(len(datas) / sum(o) for o in ours), 1),
        "baseline_images_per_s": round(statistics.median(len(datas) / sum(b) for b in base), 1),
        "ratio": round(statistics.median(ratios), 2), "ratio_per_round": [round(r, 2) for r in ratios],
        "median_long_side_px": int(np.median(sides)), "by_size": classes,
    }


def catalog_hashing(datas: list[bytes]) -> float:
    import time

    from lightbox.matching import hash_image

    t = time.perf_counter()
    for d in datas:
        hash_image(d, catalog=True)
    return round(len(datas) / (time.perf_counter() - t), 1)


def scale_test(n_index: int, n_queries: int, radius: int, brute_queries: int, seed: int = 7) -> dict:
    """Exact radius search: multi-index hashing vs brute-force numpy popcount, on uniform
    random 64-bit hashes with planted near neighbours. Memory: the index's own arrays, and
    the process's peak before the brute-force baseline (whose temporaries are not the index's)."""
    import resource
    import time

    import numpy as np

    from lightbox.matching import HammingIndex

    rs = np.random.default_rng(seed)
    hashes = rs.integers(0, 2**63, size=n_index, dtype=np.uint64) ^ (rs.integers(0, 2, size=n_index, dtype=np.uint64) << np.uint64(63))
    queries = rs.integers(0, 2**63, size=n_queries, dtype=np.uint64)
    for i in range(0, n_queries, 2):  # plant: half the queries get 1..3 neighbours within the radius
        for _ in range(rs.integers(1, 4)):
            flip = np.uint64(0)
            for b in rs.choice(64, size=rs.integers(0, radius + 1), replace=False):
                flip |= np.uint64(1) << np.uint64(int(b))
            hashes[rs.integers(0, n_index)] = queries[i] ^ flip
    idx = HammingIndex(hashes)
    del hashes
    t = time.perf_counter()
    idx.build()
    build_s = time.perf_counter() - t
    index_mb = (idx._h._a.nbytes + sum(a.nbytes for a in idx._tables)) / 2**20
    idx.search_compiled(queries[:10], radius)  # JIT warm-up (cached on disk after the first run)
    load_before = os.getloadavg()[0]
    t, c = time.perf_counter(), time.process_time()
    qm, em, dm = idx.search_compiled(queries, radius)
    mih_s, mih_cpu = time.perf_counter() - t, time.process_time() - c
    rss_index_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    qn, en, dn = idx.search_mih(queries[:brute_queries * 10], radius)
    numpy_mih_s = time.perf_counter() - t
    t = time.perf_counter()
    qb, eb, db = idx.search_brute(queries[:brute_queries], radius, batch=1)
    brute_s = time.perf_counter() - t
    sel = qm < brute_queries
    same = sorted(zip(qm[sel].tolist(), em[sel].tolist())) == sorted(zip(qb.tolist(), eb.tolist()))
    sel10 = qm < brute_queries * 10
    same_numpy = sorted(zip(qm[sel10].tolist(), em[sel10].tolist())) == sorted(zip(qn.tolist(), en.tolist()))
    # incremental: 100 photos' worth of hashes (264 each) appended one photo at a time and
    # found without a rebuild (the delta is brute-forced), then 1,000 more: one rebuild
    planted = min(1000, n_queries)
    extra = rs.integers(0, 2**63, size=26_400, dtype=np.uint64)
    extra[:planted] = queries[:planted] ^ np.uint64(1)  # each is a neighbour of a query
    t = time.perf_counter()
    for k in range(0, len(extra), 264):
        idx.append(extra[k:k + 264])
    append_s = time.perf_counter() - t
    tables = idx._tables
    t = time.perf_counter()
    qa, ea, _ = idx.search(queries, radius)
    after_s = time.perf_counter() - t
    found_new = int(np.isin(np.arange(n_index, n_index + planted), ea).sum())
    rebuilt_small = idx._tables is not tables
    idx.append(rs.integers(0, 2**63, size=264_000, dtype=np.uint64))
    t = time.perf_counter()
    idx.search(queries, radius)
    merge_s = time.perf_counter() - t
    return {
        "figure": "scale_exact_search", "indexed_hashes": n_index, "queries": n_queries, "radius": radius,
        "method": "multi-index hashing, 3 chunks (22/21/21 bits), direct-address tables, compiled loop (numba, 2 threads)",
        "build_s": round(build_s, 2), "query_s": round(mih_s, 2), "query_cpu_s": round(mih_cpu, 2),
        "load_average_at_start": round(load_before, 1), "queries_per_s": round(n_queries / mih_s, 1),
        "results": int(len(qm)), "index_mb": round(index_mb), "max_rss_mb_before_baseline": round(rss_index_mb),
        f"numpy_mih_s_for_{brute_queries * 10}_queries": round(numpy_mih_s, 2), "numpy_mih_identical": bool(same_numpy),
        "baseline": "brute-force numpy bitwise_count", "baseline_queries_run": brute_queries,
        "baseline_s": round(brute_s, 2), "baseline_extrapolated_s_for_all_queries": round(brute_s * n_queries / brute_queries, 1),
        "speedup": round(brute_s * n_queries / brute_queries / mih_s, 1),
        "identical_to_brute_force_on_checked_queries": bool(same),
        "incremental": {"appended_photos": 100, "appended_hashes": len(extra), "append_s": round(append_s, 3),
                        "tables_rebuilt": rebuilt_small, "query_s_after": round(after_s, 2),
                        "planted_neighbours_found": found_new, "planted_neighbours": planted,
                        "then_appended_hashes": 264_000, "rebuild_and_query_s": round(merge_s, 2),
                        "delta_limit": HammingIndex.DELTA_LIMIT},
        "data": "uniform random 64-bit hashes with planted neighbours (real photo hashes cluster more)",
    }


def main(argv=None) -> None:
    import argparse
    import json
    import multiprocessing as mp
    import subprocess
    import sys
    import time

    from lightbox.matching.index import RADIUS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--distractors", type=int, default=10_000)
    ap.add_argument("--reps", type=int, default=5, help="queries per catalogue photo per family")
    ap.add_argument("--long-side", type=int, default=0, help="downscale the photos first (0: as delivered)")
    ap.add_argument("--calibrate", action="store_true", help="the calibration seeds instead of the held-out ones")
    ap.add_argument("--scale-index", type=int, default=10_000_000)
    ap.add_argument("--scale-queries", type=int, default=10_000)
    ap.add_argument("--brute-queries", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scale-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.scale_only:  # a process of its own, so that its memory is the index's
        _emit(scale_test(args.scale_index, args.scale_queries, RADIUS, args.brute_queries))
        return
    t0 = time.time()
    _init_worker(args.long_side, args.calibrate)
    index, cat = _W["index"], _W["cat"]
    _emit({"figure": "setup", "catalogue": sorted(cat), "distractor_sources": sorted(split_photos(load_photos(64))[1]),
           "catalogue_long_side_px": sorted({max(im.size) for im in cat.values()}), "catalogue_hashes": index.n_hashes,
           "reps": args.reps, "seeds": "calibration" if args.calibrate else "held-out evaluation",
           "distractor_seeds": [1, args.distractors] if args.calibrate else [EVAL_DISTRACTOR_SEED0 + 1, EVAL_DISTRACTOR_SEED0 + args.distractors]})

    jobs = [(f, rep, pid) for f in _W["fams"] for rep in range(args.reps) for pid in cat]
    seed0 = 0 if args.calibrate else EVAL_DISTRACTOR_SEED0
    t = time.time()
    with mp.get_context("fork").Pool(args.workers, _init_worker, (args.long_side, args.calibrate)) as pool:
        queries = pool.map(_query_job, jobs, chunksize=2)
        query_s = time.time() - t
        t = time.time()
        distractors = pool.map(_distractor_job, range(seed0 + 1, seed0 + args.distractors + 1), chunksize=50)
    for fig in recall_figures(queries):
        _emit(fig)
    false = [d for d in distractors if d.get("matches")]
    _emit({"figure": "false_matches", "distractors": len(distractors),
           "bad_images": sum(1 for d in distractors if "bad" in d),
           "not_matchable": sum(1 for d in distractors if d.get("matchable") is False),
           "false_matches": len(false), "false_match_examples": [[d["seed"], d["matches"]] for d in false[:5]],
           "baseline": BASELINE, "baseline_false_matches": sum(1 for d in distractors if d.get("baseline_min", 99) <= BASELINE_RADIUS),
           "queries_s": round(query_s, 1), "distractors_s": round(time.time() - t, 1)})
    _emit(threshold_figure(distractors, queries))

    # --- hashing throughput: the catalogue photos under every family (one rep), then the
    # distractors (small web images); one process, interleaved with the baseline ----------
    sample = [_W["fams"][f](cat[pid], random.Random(f"tp/{f}/{pid}")) for f in _W["fams"] for pid in cat]
    _emit({"figure": "hashing_throughput", "images": "every catalogue photo under every family (one each)",
           "process": "one", "ours": "hash_image (query path: DCT-scaled YCbCr decode, trim, 8 dihedral + corner-masked + region hashes)",
           "baseline": "imagehash.phash hash_size=8, full decode", "target_ratio": 3.0, **throughput(sample)})
    small = [make_distractor(_W["sources"], random.Random(f"tp/distractor/{i}")) for i in range(300)]
    _emit({"figure": "hashing_throughput_distractors", "images": "300 distractors (web-size pictures, most under 400 px)",
           "process": "one", **throughput(small)})
    originals = [(PHOTOS / f"{pid}.jpg").read_bytes() for pid in cat]
    _emit({"figure": "catalog_hashing", "photos": len(originals), "photos_per_s": catalog_hashing(originals * 3),
           "what": "hash_image(catalog=True): crop grid, tilts and ORB features besides the query hashes"})
    from lightbox.matching import hash_image

    hashed = [hash_image(d) for d in sample]
    t = time.perf_counter()
    for h in hashed:
        index.query(h)
    dt = time.perf_counter() - t
    _emit({"figure": "index_query_throughput", "queries": len(hashed), "catalogue_photos": len(index),
           "queries_per_s": round(len(hashed) / dt, 1), "includes": "stage-1 search + 256-bit check + ORB verification when needed"})

    # --- scale: a process of its own ----------------------------------------------------------
    out = subprocess.run([sys.executable, __file__, "--scale-only", "--scale-index", str(args.scale_index),
                          "--scale-queries", str(args.scale_queries), "--brute-queries", str(args.brute_queries)],
                         capture_output=True, text=True, check=True)
    _emit(json.loads(out.stdout.strip().splitlines()[-1]))
    _emit({"figure": "run", "seconds": round(time.time() - t0, 1)})


if __name__ == "__main__":
    main()

"""Transform families and distractor generator shared by benchmarks/matching.py and the
matching unit tests. Everything is made in memory with Pillow, deterministically from a
``random.Random``."""
from __future__ import annotations

import io
import os
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

REPO = Path(__file__).resolve().parent.parent
PHOTOS = REPO / "include" / "sample_photos"
WORDS = ["SALE", "Summer", "© stock", "BUY NOW", "Holiday 2026", "news", "sample", "-40%", "travel blog"]


def load_photos(long_side: int = 1024) -> dict[str, Image.Image]:
    """The sample photos, each downscaled to ``long_side`` px on its long side, sorted by name."""
    out = {}
    for path in sorted(PHOTOS.glob("*.jpg")):
        im = Image.open(path)
        im.draft("RGB", (long_side, long_side))
        im = im.convert("RGB")
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
BASELINE_RADIUS = 10
_W: dict = {}


def _emit(obj: dict) -> None:
    import json

    print(json.dumps(obj), flush=True)


def _baseline_hash(data: bytes):
    import imagehash

    return imagehash.phash(Image.open(io.BytesIO(data)), hash_size=8)


def _init_worker(records: dict, baseline: dict, sources: list) -> None:
    from lightbox.matching import CatalogIndex, HashResult

    index = CatalogIndex()
    for pid, rec in records.items():
        index.add(pid, HashResult.from_record(rec))
    _W.update(index=index, baseline=baseline, sources=sources)


def _probe(h, index, radius_all: int = 64) -> dict:
    """Smallest stage-1 (64-bit) and stage-2 (256-bit) distances to any catalogue hash, per
    (catalogue kind, query kind): what the thresholds are chosen from."""
    import numpy as np

    from lightbox.matching.index import CATALOG_KINDS, QUERY_KINDS, _h256_distance

    out = {}
    qrows = h.select(QUERY_KINDS)
    qi, ei, d64 = index._hidx.search_brute(h.h64[qrows], radius_all)
    d256 = _h256_distance(h.h256[qrows[qi]], index._h256[ei])
    for ck in range(len(CATALOG_KINDS)):
        for qk in QUERY_KINDS:
            sel = (index._kind[ei] == ck) & np.array([h.kinds[r] == qk for r in qrows[qi]], bool)
            if sel.any():
                near = sel & (d64 <= index.radius)
                out[f"{CATALOG_KINDS[ck]}/{qk}"] = (int(d64[sel].min()), int(d256[near].min()) if near.any() else None)
    return out


def _distractor_job(seed: int) -> dict:
    from lightbox.matching import BadImage, hash_image

    rng = random.Random(seed)
    data = make_distractor(_W["sources"], rng)
    try:
        h = hash_image(data)
    except BadImage as exc:
        return {"seed": seed, "bad": exc.reason}
    matches = _W["index"].query(h)
    bh = _baseline_hash(data)
    bdist = min(bh - v for v in _W["baseline"].values())
    return {
        "seed": seed,
        "matches": [(m.photo_id, m.method, m.distance) for m in matches],
        "baseline_min": int(bdist),
        "probe": _probe(h, _W["index"]),
        "matchable": h.matchable,
    }


def _throughput(datas: list[bytes], rounds: int = 3) -> dict:
    import statistics
    import time

    from lightbox.matching import hash_image

    ours, base, cat = [], [], []
    for _ in range(rounds):  # interleaved so that machine noise hits both alike
        t = time.perf_counter()
        for d in datas:
            _baseline_hash(d)
        base.append(len(datas) / (time.perf_counter() - t))
        t = time.perf_counter()
        for d in datas:
            hash_image(d)
        ours.append(len(datas) / (time.perf_counter() - t))
    t = time.perf_counter()
    for d in datas[:60]:
        hash_image(d, catalog=True)
    cat.append(60 / (time.perf_counter() - t))
    return {
        "ours_images_per_s": round(statistics.median(ours), 1),
        "baseline_images_per_s": round(statistics.median(base), 1),
        "ratio": round(statistics.median(o / b for o, b in zip(ours, base)), 2),
        "catalog_hashing_images_per_s": round(cat[0], 1),
    }


def scale_test(n_index: int, n_queries: int, radius: int, brute_queries: int, seed: int = 7) -> dict:
    """Exact radius search: multi-index hashing vs brute-force numpy popcount, on uniform
    random 64-bit hashes with planted near neighbours."""
    import resource
    import time

    import numpy as np

    from lightbox.matching import HammingIndex

    rs = np.random.default_rng(seed)
    hashes = rs.integers(0, 2**63, size=n_index, dtype=np.uint64) ^ (rs.integers(0, 2, size=n_index, dtype=np.uint64) << np.uint64(63))
    queries = rs.integers(0, 2**63, size=n_queries, dtype=np.uint64)
    # plant: half the queries get 1..3 neighbours within the radius
    for i in range(0, n_queries, 2):
        for _ in range(rs.integers(1, 4)):
            pos = rs.integers(0, n_index)
            bits = rs.choice(64, size=rs.integers(0, radius + 1), replace=False)
            flip = np.uint64(0)
            for b in bits:
                flip |= np.uint64(1) << np.uint64(int(b))
            hashes[pos] = queries[i] ^ flip
    idx = HammingIndex(hashes)
    t = time.perf_counter()
    idx.build()
    build_s = time.perf_counter() - t
    idx.search_compiled(queries[:10], radius)  # JIT warm-up (cached on disk after the first run)
    load_before = os.getloadavg()[0]
    t, c = time.perf_counter(), time.process_time()
    qm, em, dm = idx.search_compiled(queries, radius)
    mih_s, mih_cpu = time.perf_counter() - t, time.process_time() - c
    t = time.perf_counter()
    qn, en, dn = idx.search_mih(queries[:brute_queries * 10], radius)
    numpy_mih_s = time.perf_counter() - t
    t = time.perf_counter()
    qb, eb, db = idx.search_brute(queries[:brute_queries], radius, batch=8)
    brute_s = time.perf_counter() - t
    sel = qm < brute_queries
    same = sorted(zip(qm[sel].tolist(), em[sel].tolist())) == sorted(zip(qb.tolist(), eb.tolist()))
    sel10 = qm < brute_queries * 10
    same_numpy = sorted(zip(qm[sel10].tolist(), em[sel10].tolist())) == sorted(zip(qn.tolist(), en.tolist()))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "figure": "scale_exact_search",
        "indexed_hashes": n_index,
        "queries": n_queries,
        "radius": radius,
        "method": "multi-index hashing, 3 chunks (22/21/21 bits), direct-address tables, compiled loop (numba, 2 threads)",
        "build_s": round(build_s, 2),
        "query_s": round(mih_s, 2),
        "query_cpu_s": round(mih_cpu, 2),
        "load_average_at_start": round(load_before, 1),
        "numpy_mih_s_for_%d_queries" % (brute_queries * 10): round(numpy_mih_s, 2),
        "numpy_mih_identical": bool(same_numpy),
        "queries_per_s": round(n_queries / mih_s, 1),
        "results": int(len(qm)),
        "baseline": "brute-force numpy bitwise_count",
        "baseline_queries_run": brute_queries,
        "baseline_s": round(brute_s, 2),
        "baseline_extrapolated_s_for_all_queries": round(brute_s * n_queries / brute_queries, 1),
        "speedup": round(brute_s * n_queries / brute_queries / mih_s, 1),
        "identical_to_brute_force_on_checked_queries": bool(same),
        "max_rss_mb": round(rss_mb),
        "data": "uniform random 64-bit hashes with planted neighbours (real photo hashes cluster more)",
    }


def main(argv=None) -> None:
    import argparse
    import multiprocessing as mp
    import time
    from collections import Counter, defaultdict

    from lightbox.matching import CatalogIndex, hash_image
    from lightbox.matching.index import RADIUS, THRESHOLDS

    ap = argparse.ArgumentParser()
    ap.add_argument("--distractors", type=int, default=10_000)
    ap.add_argument("--reps", type=int, default=3, help="queries per catalogue photo per family")
    ap.add_argument("--scale-index", type=int, default=10_000_000)
    ap.add_argument("--scale-queries", type=int, default=10_000)
    ap.add_argument("--brute-queries", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    t0 = time.time()

    photos = load_photos(1024)
    cat, dis = split_photos(photos)
    sources = list(dis.values())
    fams = families(sources)
    index = CatalogIndex()
    baseline = {}
    for pid, im in cat.items():
        data = jpeg(im, 92)
        index.add(pid, hash_image(data, catalog=True))
        baseline[pid] = _baseline_hash(data)
    _emit({"figure": "setup", "catalogue": sorted(cat), "distractor_sources": sorted(dis),
           "long_side_px": 1024, "catalogue_hashes": index.n_hashes, "radius64": RADIUS,
           "thresholds256": {f"{a}/{b}": v for (a, b), v in THRESHOLDS.items()}})

    # --- queries: every catalogue photo under every family ---------------------------
    rng = random.Random(2026)
    per_family = defaultdict(lambda: {"n": 0, "ours": 0, "baseline": 0, "wrong": 0, "methods": Counter()})
    query_hashes, sample_bytes = [], []
    genuine_probe = defaultdict(list)
    for fname, fn in fams.items():
        for rep in range(args.reps):
            for pid, im in cat.items():
                data = fn(im, rng)
                h = hash_image(data)
                matches = index.query(h)
                query_hashes.append(h)
                if rep == 0:
                    sample_bytes.append(data)
                row = per_family[fname]
                row["n"] += 1
                if matches and matches[0].photo_id == pid:
                    row["ours"] += 1
                    row["methods"][matches[0].method] += 1
                elif matches:
                    row["wrong"] += 1
                bh = _baseline_hash(data)
                dists = {p: bh - v for p, v in baseline.items()}
                best = min(dists, key=dists.get)
                if dists[best] <= BASELINE_RADIUS and best == pid:
                    row["baseline"] += 1
                genuine_probe[fname].append(_probe(h, index))
    total = {"n": 0, "ours": 0, "baseline": 0, "wrong": 0}
    for fname, row in per_family.items():
        for k in total:
            total[k] += row[k]
        _emit({"figure": "recall", "family": fname, "queries": row["n"],
               "recall": round(row["ours"] / row["n"], 4), "wrong_photo": row["wrong"],
               "methods": dict(row["methods"]),
               "baseline": "imagehash.phash hash_size=8 full decode, hamming<=10",
               "baseline_recall": round(row["baseline"] / row["n"], 4)})
    _emit({"figure": "recall", "family": "overall", "queries": total["n"],
           "recall": round(total["ours"] / total["n"], 4), "wrong_photo": total["wrong"],
           "baseline": "imagehash.phash hash_size=8 full decode, hamming<=10",
           "baseline_recall": round(total["baseline"] / total["n"], 4)})

    # --- distractors ------------------------------------------------------------------
    t = time.time()
    records = {pid: index._photos[pid].to_record() for pid in index._photos}
    with mp.get_context("fork").Pool(args.workers, _init_worker, (records, baseline, sources)) as pool:
        results = pool.map(_distractor_job, range(1, args.distractors + 1), chunksize=50)
    false = [r for r in results if r.get("matches")]
    base_false = sum(1 for r in results if "baseline_min" in r and r["baseline_min"] <= BASELINE_RADIUS)
    nearest = defaultdict(lambda: [99, 999])
    for r in results:
        for key, (d64, d256) in r.get("probe", {}).items():
            nearest[key][0] = min(nearest[key][0], d64)
            if d256 is not None:
                nearest[key][1] = min(nearest[key][1], d256)
    _emit({"figure": "false_matches", "distractors": len(results),
           "bad_images": sum(1 for r in results if "bad" in r),
           "not_matchable": sum(1 for r in results if r.get("matchable") is False),
           "false_matches": len(false), "false_match_examples": [r["matches"] for r in false[:5]],
           "baseline_false_matches": base_false,
           "nearest_distractor_by_hash_pair": {k: {"hamming64": v[0], "hamming256_within_radius": (None if v[1] == 999 else v[1])}
                                               for k, v in sorted(nearest.items())},
           "seconds": round(time.time() - t, 1)})
    gen_far = {}
    for fname, probes in genuine_probe.items():
        worst = defaultdict(list)
        for p in probes:
            for key, (d64, d256) in p.items():
                worst[key].append(d64)
        gen_far[fname] = {k: sorted(v)[len(v) // 2] for k, v in worst.items()}
    _emit({"figure": "genuine_median_hamming64_by_hash_pair", "families": gen_far})

    # --- throughput ------------------------------------------------------------------
    rng = random.Random(99)
    tp_set = sample_bytes[: 17 * 8] + [make_distractor(sources, rng) for _ in range(100)]
    _emit({"figure": "hashing_throughput", "images": len(tp_set), "process": "one",
           "ours": "hash_image (query path: DCT-scaled decode, trim, 8 dihedral + region hashes)",
           "baseline": "imagehash.phash hash_size=8, full decode", **_throughput(tp_set)})
    originals = []
    for path in sorted(PHOTOS.glob("*.jpg")):
        originals.append(path.read_bytes())
    _emit({"figure": "hashing_throughput_full_size", "images": len(originals) * 4, "process": "one",
           "what": "the 16 sample photos as delivered (JPEG, 1280-2400 px): web and catalogue images at full size",
           "ours": "hash_image (query path)", "baseline": "imagehash.phash hash_size=8, full decode",
           **_throughput(originals * 4)})
    t = time.perf_counter()
    for h in query_hashes:
        index.query(h)
    dt = time.perf_counter() - t
    _emit({"figure": "index_query_throughput", "queries": len(query_hashes), "catalogue_photos": len(index),
           "queries_per_s": round(len(query_hashes) / dt, 1), "includes": "stage-1 search + 256-bit check + ORB verification when needed"})

    # --- scale ------------------------------------------------------------------------
    _emit(scale_test(args.scale_index, args.scale_queries, RADIUS, args.brute_queries))
    _emit({"figure": "run", "seconds": round(time.time() - t0, 1)})


if __name__ == "__main__":
    main()

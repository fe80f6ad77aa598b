"""A marketplace for evaluating the AI scan against the best possible answer.

Each photo is a random crop of one of the project's sample photos (all of them, in turn),
degraded by *known* amounts (exposure, focus blur, downscaling with or without upscaling back,
sensor noise, JPEG quality), with metadata, by a photographer of some skill. Inspectors
decide each photo of the training period by a logistic model written down here
(:data:`COEFFICIENTS`, :func:`true_logit`): it sees the true degradations, which the AI scan
can only estimate from the pixels, so ``roc_auc(y, p_true)`` on the test photos is the
Bayes-optimal ROC-AUC.

Nothing here is imported by the AI scan: the model learns the coefficients from decisions.
The content varies (16 scenes, random crops and framings, their natural brightness and
detail), so that the pixels give away only the degradations.

``generate_aiscan(out, n_train, n_test, seed)`` writes a landing folder (``users/``,
``photos/``, ``inspections/``, ``images/``) and ``out/_aiscan.json``: ``as_of`` (train as of),
``scan_at``, ``coefficients``, and per photo its split, degradations, ``p_true`` and the drawn
decision (test photos' decisions are *not* in the landing folder: they are the answer key).
"""
from __future__ import annotations

import hashlib
import json
import math
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from lightbox.seed.images import sample_files

GENERATOR_VERSION = 2
UTC = timezone.utc
T0 = datetime(2025, 1, 1, tzinfo=UTC)
AS_OF = datetime(2026, 3, 15, tzinfo=UTC)
SCAN_AT = datetime(2026, 4, 15, tzinfo=UTC)
LONG_SIDE = (800, 1400)  # native long side of a generated photo, before any downscaling

# The inspectors' decision model: logit of P(accepted). Every degradation is in its natural
# unit: blur sigma and noise sigma in native pixels / grey levels, exposure error in stops,
# downscale as a linear factor (the detail lost, whether or not the file was upscaled back),
# JPEG quality below 70, metadata quality in [0, 1], photographer skill ~ N(0, 1).
COEFFICIENTS = {
    "intercept": 2.3,
    "blur_sigma": -1.0,
    "noise_sigma": -0.13,
    "exposure_stops": -1.1,
    "log2_downscale": -1.5,
    "jpeg_below_70": -0.07,
    "meta_quality": 1.0,
    "skill": 0.6,
}
CATEGORIES = ("landscape", "nature", "travel", "animals", "architecture", "food", "city", "abstract")
WORDS = ("sky", "light", "colour", "water", "tree", "flower", "sea", "sand", "wood", "leaf", "rain", "storm",
         "summer", "texture", "macro", "green", "blue", "yellow", "calm", "wild", "nature", "outdoor", "detail")


@dataclass
class Degradation:
    exposure_stops: float = 0.0  # signed; the model penalises its size
    blur_sigma: float = 0.0
    downscale: float = 1.0
    upscaled_back: bool = False
    noise_sigma: float = 0.0
    jpeg_quality: int = 92


def true_logit(d: Degradation, meta_quality: float, skill: float) -> float:
    c = COEFFICIENTS
    return (c["intercept"] + c["blur_sigma"] * d.blur_sigma + c["noise_sigma"] * d.noise_sigma
            + c["exposure_stops"] * abs(d.exposure_stops) + c["log2_downscale"] * math.log2(d.downscale)
            + c["jpeg_below_70"] * max(0, 70 - d.jpeg_quality) + c["meta_quality"] * meta_quality
            + c["skill"] * skill)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def draw_degradation(rng: random.Random, skill: float) -> Degradation:
    """Each defect independently, more often for less skilled photographers."""
    p = sigmoid(-1.0 - 0.7 * skill)
    d = Degradation(jpeg_quality=rng.randint(85, 95))
    if rng.random() < p:
        d.exposure_stops = rng.choice((-1, 1)) * rng.uniform(0.5, 2.5)
    if rng.random() < p:
        d.blur_sigma = rng.uniform(0.6, 4.0)
    if rng.random() < p:
        d.downscale = rng.uniform(1.5, 4.0)
        d.upscaled_back = rng.random() < 0.5
    if rng.random() < p:
        d.noise_sigma = rng.uniform(4.0, 28.0)
    if rng.random() < p:
        d.jpeg_quality = rng.randint(6, 60)
    return d


def render(base: Path, crop: tuple[float, float, float, float], long_side: int, d: Degradation, noise_seed: int) -> bytes:
    """The JPEG of one generated photo: crop (fractions of the base), fit to ``long_side``,
    then exposure, focus blur, downscale, noise and compression, in the order a camera and an
    editor apply them."""
    import io

    import numpy as np
    from PIL import Image, ImageFilter

    img = Image.open(base).convert("RGB")
    w, h = img.size
    x0, y0, cw, ch = crop
    box = (int(x0 * w), int(y0 * h), int((x0 + cw) * w), int((y0 + ch) * h))
    img = img.crop(box)
    f = long_side / max(img.size)
    if f < 1:
        img = img.resize((max(8, round(img.size[0] * f)), max(8, round(img.size[1] * f))), Image.Resampling.LANCZOS)
    if d.exposure_stops:
        gain = 2.0 ** d.exposure_stops  # in linear light
        lut = [min(255, round(255 * min(1.0, (v / 255) ** 2.2 * gain) ** (1 / 2.2))) for v in range(256)]
        img = img.point(lut * 3)
    if d.blur_sigma:
        img = img.filter(ImageFilter.GaussianBlur(d.blur_sigma))
    if d.downscale > 1:
        size = img.size
        img = img.resize((max(8, round(size[0] / d.downscale)), max(8, round(size[1] / d.downscale))), Image.Resampling.BOX)
        if d.upscaled_back:
            img = img.resize(size, Image.Resampling.BICUBIC)
    if d.noise_sigma:
        rng = np.random.default_rng(noise_seed)
        arr = np.asarray(img, dtype=np.float32)
        # sensor noise: mostly in luminance, some in colour
        lum = rng.standard_normal(arr.shape[:2], dtype=np.float32)[..., None] * d.noise_sigma
        chroma = rng.standard_normal(arr.shape, dtype=np.float32) * (0.4 * d.noise_sigma)
        img = Image.fromarray(np.clip(arr + lum + chroma, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=d.jpeg_quality)
    return buf.getvalue()


def _render_job(job):
    path, args = job
    data = render(*args)
    Path(path).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def _key(n_train: int, n_test: int, seed: int) -> str:
    h = hashlib.sha256(f"{GENERATOR_VERSION}|{n_train}|{n_test}|{seed}|{sorted(COEFFICIENTS.items())}".encode())
    for path in sample_files():
        h.update(path.name.encode())
        h.update(str(path.stat().st_size).encode())
    return h.hexdigest()[:12]


def generate_aiscan(out, n_train: int = 1800, n_test: int = 700, seed: int = 11, photographers: int = 120,
                    workers: int = 2) -> dict:
    """Write the generated marketplace to ``out`` (see the module docstring); returns the
    manifest. Same arguments, same bytes."""
    from lightbox.seed.writer import Landing

    out = Path(out)
    rng = random.Random(f"lightbox-aiscan/{seed}")
    bases = sample_files()
    landing = Landing(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    users = landing.file("users", "users_0001.csv")
    owners = []
    for i in range(photographers):
        skill = rng.gauss(0, 1)
        uid = f"ph{i:04d}"
        owners.append((uid, skill))
        joined = T0 - timedelta(days=rng.uniform(30, 900))
        users.write({"user_id": uid, "username": uid, "country": "DE", "joined_at": joined, "auto_licensing": False,
                     "default_exclusive": False, "updated_at": joined, "deleted_at": None})
    photos = landing.file("photos", "photos_0001.csv")
    inspections = landing.file("inspections", "inspections_0001.csv")
    train_span = (AS_OF - timedelta(days=14) - T0).total_seconds()
    records, jobs = [], []
    for n in range(n_train + n_test):
        split = "train" if n < n_train else "test"
        uid, skill = owners[rng.randrange(photographers)]
        if split == "train":
            uploaded = T0 + timedelta(seconds=rng.uniform(0, train_span))
        else:
            uploaded = AS_OF + timedelta(seconds=rng.uniform(3600, (SCAN_AT - AS_OF).total_seconds() - 3600))
        uploaded = uploaded.replace(microsecond=0)
        base_index = n % len(bases)
        cw = rng.uniform(0.45, 1.0)
        ch = min(1.0, cw * rng.choice((0.5625, 0.667, 0.75, 1.0, 1.333)))
        crop = (rng.uniform(0, 1 - cw), rng.uniform(0, 1 - ch), cw, ch)
        long_side = rng.randint(*LONG_SIDE)
        d = draw_degradation(rng, skill)
        n_kw = max(0, min(25, int(rng.gauss(9 + 1 * skill, 5))))
        keywords = [rng.choice(WORDS) for _ in range(n_kw)]
        has_title = rng.random() < sigmoid(1.2 + 0.4 * skill)
        has_desc = rng.random() < sigmoid(0.3 + 0.4 * skill)
        meta_quality = 0.5 * min(len(set(keywords)), 10) / 10 + 0.3 * has_title + 0.2 * has_desc
        p_true = sigmoid(true_logit(d, meta_quality, skill))
        accepted = rng.random() < p_true
        photo_id = f"g{n:05d}"
        name = f"images/{photo_id}.jpg"
        jobs.append((str(out / name), (bases[base_index], crop, long_side, d, seed * 1_000_003 + n)))
        category = CATEGORIES[rng.randrange(len(CATEGORIES))]
        iso = int(100 * 2 ** (d.noise_sigma / 14 + rng.uniform(-0.5, 3)))  # noisy photos tend to be high-ISO ones
        records.append({
            "photo_id": photo_id, "split": split, "owner_id": uid, "skill": round(skill, 4), "base": bases[base_index].stem,
            "crop": [round(v, 4) for v in crop], "long_side": long_side, "degradation": asdict(d),
            "meta_quality": round(meta_quality, 4), "p_true": p_true, "accepted": accepted,
            "uploaded_at": uploaded.isoformat(),
            "row": {
                "photo_id": photo_id, "owner_id": uid, "uploaded_at": uploaded,
                "title": f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} and {rng.choice(WORDS)}" if has_title else None,
                "description": " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 16))) if has_desc else None,
                "keywords": ";".join(keywords) or None, "category": category,
                "camera_make": "Canon", "camera_model": "EOS R6", "focal_length_mm": rng.choice((24, 35, 50, 85, 135)),
                "aperture": rng.choice((2.8, 4.0, 5.6, 8.0)), "iso": iso, "exposure_s": rng.choice((0.002, 0.004, 0.008, 0.016)),
                "has_people": False, "has_property": False, "model_release": None, "property_release": None,
                "submitted_for_licensing": True, "removed_from_licensing": False, "exclusive": False,
                "image_path": name, "updated_at": uploaded, "deleted_at": None,
            },
        })
        if split == "train":
            decided = (uploaded + timedelta(hours=rng.uniform(2, 240))).replace(microsecond=0)
            inspections.write({"photo_id": photo_id, "inspector_id": f"insp{rng.randrange(6)}",
                               "decision": "accepted" if accepted else "rejected",
                               "reason": None, "decided_at": decided})
    with ProcessPoolExecutor(max_workers=workers) if workers > 1 else _Inline() as pool:
        hashes = list(pool.map(_render_job, jobs, chunksize=32))
    for rec, sha in zip(records, hashes):
        from PIL import Image

        with Image.open(out / rec["row"]["image_path"]) as im:
            rec["row"]["width"], rec["row"]["height"] = im.size
        rec["row"]["sha256"] = sha
        photos.write(rec["row"])
        del rec["row"]
    landing.close()
    manifest = {"generator": GENERATOR_VERSION, "seed": seed, "as_of": AS_OF.isoformat(), "scan_at": SCAN_AT.isoformat(),
                "coefficients": COEFFICIENTS, "n_train": n_train, "n_test": n_test, "photographers": photographers,
                "photos": records}
    (out / "_aiscan.json").write_text(json.dumps(manifest))
    return manifest


class _Inline:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def map(self, fn, items, chunksize=1):
        return map(fn, items)


def cached_aiscan(cache_root, n_train: int = 1800, n_test: int = 700, seed: int = 11, workers: int = 2) -> tuple[Path, dict]:
    """The generated marketplace under ``cache_root`` (built once per arguments and generator
    version, then reused): (landing folder, manifest)."""
    import shutil
    import tempfile

    target = Path(cache_root) / f"aiscan-{_key(n_train, n_test, seed)}"
    manifest = target / "_aiscan.json"
    if manifest.is_file():
        return target, json.loads(manifest.read_text())
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".building-"))
    try:
        generate_aiscan(tmp, n_train, n_test, seed, workers=workers)
        tmp.rename(target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not manifest.is_file():
            raise
    return target, json.loads(manifest.read_text())

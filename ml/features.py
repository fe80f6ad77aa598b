"""Features of a photo for the AI scan: metadata (text completeness, category, camera and
exposure, resolution, releases), the owner's history *before the upload* and the pixels.

The leakage guard: every owner-history feature of a photo counts only events (the owner's
other uploads, inspector decisions, sales) strictly before that photo's ``uploaded_at``;
:func:`owner_history` is the one place that computes them, with ``merge_asof`` and
``allow_exact_matches=False``.

Bad input never raises here: absurd EXIF values become NaN and a note in ``quality_notes``;
an unknown category becomes ``category_code = -1`` with a note; an unreadable image gets NaN
pixel features and its reason in ``pixel_error``.
"""
from __future__ import annotations

import json
import logging
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from ml.pixels import PIXEL_FEATURES, PixelError, empty_features, pixel_features

log = logging.getLogger(__name__)

# The marketplace's categories; anything else is "unknown" (code -1).
CATEGORIES = (
    "animals", "architecture", "business", "food", "landscape", "lifestyle", "nature",
    "people", "sports", "technology", "travel", "transport", "abstract", "fashion", "city",
    "science", "industry", "interiors", "education", "health", "art", "backgrounds",
)

# Plausible ranges of EXIF-like metadata; a value outside is ignored (NaN) with a note.
EXIF_RANGES = {
    "focal_length_mm": (1.0, 2000.0),
    "aperture": (0.7, 64.0),
    "iso": (25.0, 409600.0),
    "exposure_s": (1e-5, 3600.0),
}
MAX_DECLARED_PIXELS = 250_000_000

METADATA_FEATURES = (
    "title_words", "title_chars", "description_words", "keyword_count", "keyword_distinct", "keyword_unique_ratio",
    "keywords_in_title", "category_code", "camera_known", "focal_length_mm", "aperture",
    "log_iso", "log_exposure_s", "width", "height", "megapixels", "aspect_ratio",
    "has_people", "has_property", "missing_model_release", "missing_property_release",
    "owner_tenure_days", "owner_prior_photos", "owner_prior_decisions",
    "owner_prior_accept_rate", "owner_accept_rate_shrunk", "owner_prior_sales",
)
ALL_FEATURES = METADATA_FEATURES + PIXEL_FEATURES

# What each feature means to a photographer or inspector: (when it raises the score, when
# it lowers it). Used to turn LightGBM's pred_contrib into reasons.
FEATURE_WORDS: dict[str, tuple[str, str]] = {
    "title_words": ("the title is descriptive", "the title is missing or too short"),
    "title_chars": ("the title is descriptive", "the title is missing or too short"),
    "description_words": ("the description is informative", "the description is missing or thin"),
    "keyword_count": ("the photo has enough keywords", "the photo has too few keywords"),
    "keyword_distinct": ("the photo has enough distinct keywords", "the photo has too few distinct keywords"),
    "keyword_unique_ratio": ("the keywords are varied", "the keywords repeat each other"),
    "keywords_in_title": ("the title and keywords agree", "the title and keywords do not match"),
    "category_code": ("the category sells well", "the category is weak or unknown"),
    "camera_known": ("camera details are present", "camera details are missing"),
    "focal_length_mm": ("the focal length suits the subject", "the focal length is unusual"),
    "aperture": ("the aperture setting is typical of good shots", "the aperture setting is unusual"),
    "log_iso": ("low ISO (clean image)", "high ISO (likely noisy)"),
    "log_exposure_s": ("the shutter speed is safe", "the shutter speed risks motion blur"),
    "width": ("the resolution is high", "the resolution is low"),
    "height": ("the resolution is high", "the resolution is low"),
    "megapixels": ("the resolution is high", "the resolution is low"),
    "aspect_ratio": ("the aspect ratio is standard", "the aspect ratio is unusual"),
    "has_people": ("the people in it add value", "people in it need care (releases)"),
    "has_property": ("the property in it adds value", "property in it needs care (releases)"),
    "missing_model_release": ("releases are in order", "a model release is missing"),
    "missing_property_release": ("releases are in order", "a property release is missing"),
    "owner_tenure_days": ("the photographer is experienced here", "the photographer is new here"),
    "owner_prior_photos": ("the photographer has a large portfolio", "the photographer has a small portfolio"),
    "owner_prior_decisions": ("the photographer has a review record", "the photographer has little review record"),
    "owner_prior_accept_rate": ("the photographer's earlier photos were usually accepted", "the photographer's earlier photos were often rejected"),
    "owner_prior_sales": ("the photographer's photos sell", "the photographer has few sales"),
    "owner_accept_rate_shrunk": ("the photographer's earlier photos were usually accepted", "the photographer's earlier photos were often rejected"),
    "px_width": ("the image resolution is high", "the image resolution is low"),
    "px_height": ("the image resolution is high", "the image resolution is low"),
    "px_megapixels": ("the image resolution is high", "the image resolution is low"),
    "px_effective_megapixels": ("the photo has plenty of real detail", "the photo has little real detail for its size"),
    "px_bits_per_pixel": ("the file keeps plenty of detail", "the file is heavily compressed"),
    "px_brightness": ("the exposure is good", "the image is too dark or too bright"),
    "px_contrast": ("the contrast is good", "the image looks flat (low contrast)"),
    "px_lum_p02": ("the shadows are well placed", "the shadows are badly placed"),
    "px_lum_p50": ("the mid-tones are well placed", "the mid-tones are too dark or too bright"),
    "px_lum_p98": ("the highlights are well placed", "the highlights are badly placed"),
    "px_clip_dark": ("the shadows keep detail", "large areas are crushed to black"),
    "px_clip_bright": ("the highlights keep detail", "large areas are blown out to white"),
    "px_detail": ("the photo has rich structure", "the photo has little structure"),
    "px_sharpness": ("the most detailed areas are sharp", "the most detailed areas look soft"),
    "px_sharp_fine": ("the most detailed areas are sharp at 100% zoom", "the most detailed areas look soft at 100% zoom"),
    "px_sharp_mid": ("the photo is sharp at half size", "the photo looks blurred even at half size"),
    "px_focus": ("the most detailed areas are in focus", "the most detailed areas are out of focus"),
    "px_noise": ("the image is clean", "the image is noisy or grainy"),
    "px_jpeg_quality": ("the JPEG quality is high", "the JPEG is compressed too hard"),
    "px_blockiness": ("no compression artefacts", "visible JPEG block artefacts"),
}

PHOTOS_SQL = """
select p.photo_id, p.owner_id, p.uploaded_at, p.title, p.description, p.keywords, p.category,
       p.width, p.height, p.camera_make, p.camera_model, p.focal_length_mm, p.aperture, p.iso,
       p.exposure_s, p.has_people, p.has_property, p.model_release, p.property_release,
       p.submitted_for_licensing, p.removed_from_licensing, p.image_path,
       p.deleted_at, u.joined_at as owner_joined_at, (u.user_id is not null) as owner_known
from raw.photos p
left join raw.users u on u.user_id = p.owner_id
"""


def load_photos(conn, photo_ids=None) -> pd.DataFrame:
    sql = PHOTOS_SQL + (" where p.photo_id = any(%s)" if photo_ids is not None else "")
    with conn.cursor() as cur:
        cur.execute(sql, (list(photo_ids),) if photo_ids is not None else None)
        cols = [d[0] for d in cur.description]
        df = pd.DataFrame(cur.fetchall(), columns=cols)
    for col in ("uploaded_at", "deleted_at", "owner_joined_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    return df


def load_uploads(conn, owner_ids=None) -> pd.DataFrame:
    """(owner_id, uploaded_at) of every photo of ``owner_ids`` (all owners when None)."""
    sql = "select owner_id, uploaded_at from raw.photos"
    sql += " where owner_id = any(%s)" if owner_ids is not None else ""
    with conn.cursor() as cur:
        cur.execute(sql, (list(owner_ids),) if owner_ids is not None else None)
        df = pd.DataFrame(cur.fetchall(), columns=["owner_id", "uploaded_at"])
    df["uploaded_at"] = pd.to_datetime(df["uploaded_at"], utc=True)
    return df


def load_decisions(conn, as_of=None, owner_ids=None) -> pd.DataFrame:
    """Every inspector decision (landing ``inspections`` and the inspector app's
    ``licensing.decisions``), with the photo's owner, decided at or before ``as_of``
    (of ``owner_ids``' photos only, when given)."""
    sql = """
        with all_decisions as (
            select photo_id, decision, decided_at from raw.inspections
            union
            select photo_id, decision, decided_at from licensing.decisions
        )
        select d.photo_id, p.owner_id, d.decision, d.decided_at
        from all_decisions d
        join raw.photos p on p.photo_id = d.photo_id
        where (%(as_of)s::timestamptz is null or d.decided_at <= %(as_of)s::timestamptz)
          and (%(all)s or p.owner_id = any(%(owners)s))
    """
    with conn.cursor() as cur:
        cur.execute(sql, {"as_of": as_of, "all": owner_ids is None, "owners": list(owner_ids or [])})
        df = pd.DataFrame(cur.fetchall(), columns=["photo_id", "owner_id", "decision", "decided_at"])
    df["decided_at"] = pd.to_datetime(df["decided_at"], utc=True)
    return df


def load_global_decisions(conn, as_of=None) -> pd.DataFrame:
    """(decided_at, decision) of every inspector decision at or before ``as_of``: the global
    acceptance rate a photographer's record is shrunk towards."""
    with conn.cursor() as cur:
        cur.execute(
            """select decided_at, decision from (
                   select photo_id, decided_at, decision from raw.inspections
                   union
                   select photo_id, decided_at, decision from licensing.decisions
               ) as d where %(as_of)s::timestamptz is null or decided_at <= %(as_of)s::timestamptz""",
            {"as_of": as_of},
        )
        df = pd.DataFrame(cur.fetchall(), columns=["decided_at", "decision"])
    df["decided_at"] = pd.to_datetime(df["decided_at"], utc=True)
    return df


def load_sales(conn, as_of=None, owner_ids=None) -> pd.DataFrame:
    sql = """
        select s.photo_id, p.owner_id, s.sold_at
        from raw.sales s join raw.photos p on p.photo_id = s.photo_id
        where (%(as_of)s::timestamptz is null or s.sold_at <= %(as_of)s::timestamptz)
          and (%(all)s or p.owner_id = any(%(owners)s))
    """
    with conn.cursor() as cur:
        cur.execute(sql, {"as_of": as_of, "all": owner_ids is None, "owners": list(owner_ids or [])})
        df = pd.DataFrame(cur.fetchall(), columns=["photo_id", "owner_id", "sold_at"])
    df["sold_at"] = pd.to_datetime(df["sold_at"], utc=True)
    return df


def _asof_count(photos: pd.DataFrame, events: pd.DataFrame, time_col: str, value_cols: dict) -> pd.DataFrame:
    """For each photo, cumulative sums of ``value_cols`` over the owner's events strictly
    before the photo's upload."""
    left = photos[["photo_id", "owner_id", "uploaded_at"]].copy()
    left["_order"] = np.arange(len(left))
    out = pd.DataFrame(index=left["_order"])
    if events.empty or left.empty:
        for name in value_cols:
            out[name] = 0.0
        return out
    ev = events[["owner_id", time_col, *value_cols.values()]].dropna(subset=["owner_id", time_col])
    ev = ev.sort_values(time_col)
    cum = ev.groupby("owner_id")[list(value_cols.values())].cumsum()
    cum["owner_id"] = ev["owner_id"]
    cum["_t"] = ev[time_col]
    cum = cum.sort_values("_t")
    lk = left.dropna(subset=["uploaded_at"]).sort_values("uploaded_at")
    merged = pd.merge_asof(
        lk, cum, left_on="uploaded_at", right_on="_t", by="owner_id",
        allow_exact_matches=False, direction="backward",
    )
    merged = merged.set_index("_order")
    for name, src in value_cols.items():
        out[name] = merged[src].reindex(out.index).fillna(0.0).astype(float)
    return out


SHRINK_DECISIONS = 8.0  # pseudo-decisions at the global rate added to a photographer's record


def owner_history(photos: pd.DataFrame, decisions: pd.DataFrame, sales: pd.DataFrame, all_photos: pd.DataFrame,
                  global_decisions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Owner-history features of ``photos`` from events strictly before each upload.

    ``all_photos`` are every photo (for the portfolio size); ``decisions`` and ``sales`` carry
    ``owner_id``. ``global_decisions`` (decided_at, decision) are every owner's decisions, for
    the global acceptance rate the photographer's rate is shrunk towards (``decisions`` when
    None, i.e. when those are everyone's). Returns a frame aligned with ``photos``.

    ``owner_accept_rate_shrunk`` = (accepted + k * g) / (decided + k), with k =
    ``SHRINK_DECISIONS`` and g the global acceptance rate, both counted strictly before the
    upload: a photographer with no record gets g, one with a long record their own rate."""
    uploads = all_photos[["owner_id", "uploaded_at"]].copy()
    uploads["n"] = 1.0
    dec = decisions.copy()
    dec["n"] = 1.0
    dec["acc"] = (dec["decision"] == "accepted").astype(float) if len(dec) else 0.0
    sal = sales.copy()
    sal["n"] = 1.0
    a = _asof_count(photos, uploads, "uploaded_at", {"owner_prior_photos": "n"})
    b = _asof_count(photos, dec, "decided_at", {"owner_prior_decisions": "n", "_acc": "acc"})
    c = _asof_count(photos, sal, "sold_at", {"owner_prior_sales": "n"})
    glob = (decisions if global_decisions is None else global_decisions)[["decided_at", "decision"]].copy()
    glob["owner_id"] = "*"
    glob["n"] = 1.0
    glob["acc"] = (glob["decision"] == "accepted").astype(float) if len(glob) else 0.0
    everyone = photos[["photo_id", "uploaded_at"]].assign(owner_id="*")
    g = _asof_count(everyone, glob, "decided_at", {"_g_n": "n", "_g_acc": "acc"})
    out = pd.concat([a, b, c, g], axis=1)
    out["owner_prior_accept_rate"] = np.where(
        out["owner_prior_decisions"] > 0, out["_acc"] / out["owner_prior_decisions"].clip(lower=1), np.nan
    )
    global_rate = np.where(out["_g_n"] > 0, out["_g_acc"] / out["_g_n"].clip(lower=1), np.nan)
    out["owner_accept_rate_shrunk"] = (out["_acc"] + SHRINK_DECISIONS * global_rate) / (out["owner_prior_decisions"] + SHRINK_DECISIONS)
    return out.drop(columns=["_acc", "_g_n", "_g_acc"]).reset_index(drop=True)


def text(value) -> str:
    """A text cell as str; None and pandas' NaN (missing) become ''."""
    return value if isinstance(value, str) else ""


def flag(value) -> bool:
    """A boolean cell; None and NaN (missing) are False, never truthy."""
    return isinstance(value, (bool, np.bool_)) and bool(value)


def _words(text) -> list[str]:
    if not isinstance(text, str):
        return []
    return [w for w in text.replace(",", " ").split() if w.strip()]


def _keywords(text) -> list[str]:
    if not isinstance(text, str):
        return []
    return [k.strip().lower() for k in text.split(";") if k.strip()]


def _num(value) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return math.nan
    return f if math.isfinite(f) else math.nan


def metadata_row(row) -> tuple[dict, list[str]]:
    """Metadata features of one photo and its data-quality notes (plain words)."""
    notes: list[str] = []
    title = _words(text(row.get("title")))
    keywords = _keywords(row.get("keywords"))
    if not keywords:
        notes.append("the photo has no keywords")
    category = text(row.get("category")).strip().lower()
    if category in CATEGORIES:
        category_code = CATEGORIES.index(category)
    else:
        category_code = -1
        notes.append(f"unknown category {category!r}" if category else "no category")
    exif = {}
    for name, (lo, hi) in EXIF_RANGES.items():
        value = _num(row.get(name))
        if not math.isnan(value) and not lo <= value <= hi:
            notes.append(f"implausible {name.replace('_', ' ')} {row.get(name)} ignored")
            value = math.nan
        exif[name] = value
    width, height = _num(row.get("width")), _num(row.get("height"))
    if not (math.isnan(width) or math.isnan(height)):
        if width <= 0 or height <= 0 or width * height > MAX_DECLARED_PIXELS:
            notes.append(f"implausible size {row.get('width')}x{row.get('height')} ignored")
            width = height = math.nan
    title_set = {w.lower().strip(".,!?") for w in title}
    uploaded, joined = row.get("uploaded_at"), row.get("owner_joined_at")
    tenure = (uploaded - joined).total_seconds() / 86400 if pd.notna(uploaded) and pd.notna(joined) else math.nan
    has_people = flag(row.get("has_people"))
    has_property = flag(row.get("has_property"))
    feats = {
        "title_words": float(len(title)),
        "title_chars": float(len(text(row.get("title")))),
        "description_words": float(len(_words(row.get("description")))),
        "keyword_count": float(len(keywords)),
        "keyword_distinct": float(len(set(keywords))),
        "keyword_unique_ratio": len(set(keywords)) / len(keywords) if keywords else math.nan,
        "keywords_in_title": float(sum(1 for k in set(keywords) if k in title_set)),
        "category_code": float(category_code),
        "camera_known": float(bool(text(row.get("camera_make")).strip())),
        "focal_length_mm": exif["focal_length_mm"],
        "aperture": exif["aperture"],
        "log_iso": math.log(exif["iso"]) if not math.isnan(exif["iso"]) else math.nan,
        "log_exposure_s": math.log(exif["exposure_s"]) if not math.isnan(exif["exposure_s"]) else math.nan,
        "width": width,
        "height": height,
        "megapixels": width * height / 1e6 if not math.isnan(width) else math.nan,
        "aspect_ratio": width / height if not (math.isnan(width) or math.isnan(height)) else math.nan,
        "has_people": float(has_people),
        "has_property": float(has_property),
        "missing_model_release": float(has_people and not flag(row.get("model_release"))),
        "missing_property_release": float(has_property and not flag(row.get("property_release"))),
        "owner_tenure_days": tenure,
    }
    return feats, notes


def compute_pixels(image_paths: list[str], workers: int = 2) -> list[tuple[dict, str | None]]:
    """Pixel features of each image path (``None`` error) or NaNs and the reason."""
    from lightbox.landing.media import read_photo_bytes

    def one(path):
        if not path:
            return empty_features(), "no image file on record"
        try:
            data = read_photo_bytes(path)
        except FileNotFoundError:
            return empty_features(), f"image file not found: {path}"
        except Exception as exc:  # noqa: BLE001 - any read failure is a reason, not a crash
            return empty_features(), f"image file cannot be read: {exc}"
        try:
            return pixel_features(data), None
        except PixelError as exc:
            return empty_features(), str(exc)
        except Exception as exc:  # noqa: BLE001
            return empty_features(), f"image cannot be analysed: {exc}"

    if workers <= 1 or len(image_paths) < 8:
        return [one(p) for p in image_paths]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, image_paths))


def cached_pixels(conn, photos: pd.DataFrame, workers: int = 2) -> pd.DataFrame:
    """Pixel features of ``photos`` from ``licensing.pixel_features``, computing (and storing)
    those missing or whose image_path changed. Aligned with ``photos``."""
    ids = photos["photo_id"].tolist()
    with conn.cursor() as cur:
        cur.execute(
            "select photo_id, image_path, features, error from licensing.pixel_features where photo_id = any(%s)",
            (ids,),
        )
        cached = {r[0]: r for r in cur.fetchall()}
    todo = [
        (pid, path) for pid, path in zip(ids, photos["image_path"].tolist())
        if pid not in cached or cached[pid][1] != path or (cached[pid][3] and "not found" in cached[pid][3])
        or (not cached[pid][3] and not set(PIXEL_FEATURES) <= set(cached[pid][2] or {}))  # older feature code
    ]
    if todo:
        results = compute_pixels([p for _, p in todo], workers=workers)
        rows = []
        for (pid, path), (feats, err) in zip(todo, results):
            clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in feats.items()}
            rows.append((pid, path, json.dumps(clean), err))
            cached[pid] = (pid, path, clean, err)
        with conn.cursor() as cur:
            from psycopg2.extras import execute_values

            execute_values(
                cur,
                """insert into licensing.pixel_features (photo_id, image_path, features, error)
                   values %s on conflict (photo_id) do update set image_path = excluded.image_path,
                   features = excluded.features, error = excluded.error, computed_at = now()""",
                rows,
            )
        if not conn.autocommit:
            conn.commit()
    records = []
    for pid in ids:
        feats = cached[pid][2] or {}
        rec = {k: (math.nan if feats.get(k) is None else float(feats[k])) for k in PIXEL_FEATURES}
        rec["pixel_error"] = cached[pid][3]
        records.append(rec)
    return pd.DataFrame(records, columns=[*PIXEL_FEATURES, "pixel_error"])


def build_features(photos: pd.DataFrame, decisions: pd.DataFrame, sales: pd.DataFrame,
                   all_photos: pd.DataFrame, pixels: pd.DataFrame | None,
                   global_decisions: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per photo (same order): photo_id, every feature of ``ALL_FEATURES`` and
    ``quality_notes`` (list of plain-word notes) and ``pixel_error``."""
    photos = photos.reset_index(drop=True)
    meta, notes = [], []
    for row in photos.to_dict("records"):
        feats, row_notes = metadata_row(row)
        meta.append(feats)
        notes.append(row_notes)
    out = pd.DataFrame(meta)
    hist = owner_history(photos, decisions, sales, all_photos, global_decisions)
    for col in hist.columns:
        out[col] = hist[col].values
    if pixels is None:
        pixels = pd.DataFrame({k: [math.nan] * len(photos) for k in PIXEL_FEATURES})
        pixels["pixel_error"] = None
    for col in PIXEL_FEATURES:
        out[col] = pixels[col].values
    out["pixel_error"] = pixels["pixel_error"].values
    out.insert(0, "photo_id", photos["photo_id"].values)
    out["quality_notes"] = notes
    return out


def features_for(conn, photo_ids=None, as_of=None, with_pixels: bool = True, workers: int = 2):
    """(photos, features) for the given photos (all when None) as the data stood at ``as_of``.
    Reads only the history of these photos' owners."""
    photos = load_photos(conn, photo_ids).sort_values("photo_id").reset_index(drop=True)
    if photo_ids is not None:
        order = {pid: i for i, pid in enumerate(dict.fromkeys(photo_ids))}
        photos = photos.iloc[photos["photo_id"].map(order).argsort()].reset_index(drop=True)
    owners = None if photo_ids is None else photos["owner_id"].dropna().unique().tolist()
    uploads = load_uploads(conn, owners)
    decisions = load_decisions(conn, as_of, owners)
    sales = load_sales(conn, as_of, owners)
    everyone = decisions if owners is None else load_global_decisions(conn, as_of)
    pixels = cached_pixels(conn, photos, workers=workers) if with_pixels else None
    return photos, build_features(photos, decisions, sales, uploads, pixels, everyone)

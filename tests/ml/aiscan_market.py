"""Helpers: a small synthetic marketplace for the AI-scan tests, written straight into raw.* with SQL,
with tiny JPEGs whose quality (sharp, blurred, dark) drives the inspectors' decisions."""
from __future__ import annotations

import io
import random
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np

UTC = timezone.utc
T0 = datetime(2025, 1, 1, tzinfo=UTC)
SCAN_AT = datetime(2026, 1, 15, tzinfo=UTC)
TRAIN_AS_OF = datetime(2026, 1, 1, tzinfo=UTC)

PHOTO_COLUMNS = (
    "photo_id", "owner_id", "uploaded_at", "title", "description", "keywords", "category", "width",
    "height", "camera_make", "camera_model", "focal_length_mm", "aperture", "iso", "exposure_s",
    "has_people", "has_property", "model_release", "property_release", "submitted_for_licensing",
    "removed_from_licensing", "exclusive", "image_path", "sha256", "updated_at", "deleted_at",
)
USER_COLUMNS = ("user_id", "username", "country", "joined_at", "auto_licensing", "default_exclusive", "updated_at", "deleted_at")


def make_jpeg(kind: str, seed: int, size=(160, 120), quality=90) -> bytes:
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    img = Image.new("RGB", size, tuple(rng.randrange(60, 200) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(25):
        x0, y0 = rng.randrange(size[0]), rng.randrange(size[1])
        x1, y1 = x0 + rng.randrange(4, 50), y0 + rng.randrange(4, 40)
        draw.rectangle([x0, y0, x1, y1], fill=tuple(rng.randrange(0, 256) for _ in range(3)))
    arr = np.asarray(img).astype(np.float32)
    arr += np.random.default_rng(seed).normal(0, 4, arr.shape)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if kind == "blurred":
        img = img.filter(ImageFilter.GaussianBlur(3))
    elif kind == "dark":
        img = Image.fromarray((np.asarray(img).astype(np.float32) * 0.12).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@dataclass
class Market:
    conn: object
    landing: object
    line: int = 0
    images: dict = field(default_factory=dict)

    def _next(self) -> int:
        self.line += 1
        return self.line

    def image(self, kind: str, n: int) -> str:
        key = (kind, n % 16)
        if key not in self.images:
            path = f"images/{kind}_{n % 16}.jpg"
            target = self.landing / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(make_jpeg(kind, seed=zlib.crc32(kind.encode()) % 10_000 + n % 16))
            self.images[key] = path
        return self.images[key]

    def user(self, user_id: str, auto_licensing=False, default_exclusive=False, at=T0 - timedelta(days=30), deleted_at=None):
        """Insert a new version of a user (history + current)."""
        row = dict(user_id=user_id, username=user_id, country="DE", joined_at=T0 - timedelta(days=400),
                   auto_licensing=auto_licensing, default_exclusive=default_exclusive, updated_at=at, deleted_at=deleted_at)
        self._insert("users", row, USER_COLUMNS, ("user_id",))

    def photo(self, photo_id: str, owner_id: str, uploaded_at, kind="sharp", n=0, **overrides):
        row = dict(
            photo_id=photo_id, owner_id=owner_id, uploaded_at=uploaded_at, title="Red boat on a calm lake at dawn",
            description="A small red rowing boat on a calm lake in the morning light", keywords="boat;lake;dawn;red;calm;water",
            category="travel", width=4000, height=3000, camera_make="Canon", camera_model="EOS R5",
            focal_length_mm=35, aperture=5.6, iso=200, exposure_s=0.004, has_people=False, has_property=False,
            model_release=False, property_release=False, submitted_for_licensing=True, removed_from_licensing=False,
            exclusive=None, image_path=None, sha256=None, updated_at=uploaded_at, deleted_at=None,
        )
        row.update(overrides)
        if row["image_path"] is None:
            row["image_path"] = self.image(kind, n)
        self._insert("photos", row, PHOTO_COLUMNS, ("photo_id",))

    def update_photo(self, photo_id: str, **changes):
        sets = ", ".join(f"{k} = %s" for k in changes)
        with self.conn.cursor() as cur:
            cur.execute(f"update raw.photos set {sets} where photo_id = %s", (*changes.values(), photo_id))

    def decide(self, photo_id: str, decision: str, decided_at):
        with self.conn.cursor() as cur:
            cur.execute(
                """insert into raw.inspections (photo_id, inspector_id, decision, reason, decided_at, _file_id, _line, _arrived_at)
                   values (%s, 'insp1', %s, null, %s, 1, %s, now())""",
                (photo_id, decision, decided_at, self._next()),
            )

    def sale(self, sale_id: str, photo_id: str, sold_at):
        with self.conn.cursor() as cur:
            cur.execute(
                """insert into raw.sales (sale_id, photo_id, sold_at, license_type, amount, currency, _file_id, _line, _arrived_at)
                   values (%s, %s, %s, 'standard', 10, 'USD', 1, %s, now())""",
                (sale_id, photo_id, sold_at, self._next()),
            )

    def _insert(self, source, row, columns, key):
        line = self._next()
        cols = ", ".join(columns)
        ph = ", ".join(["%s"] * len(columns))
        values = [row[c] for c in columns]
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
        with self.conn.cursor() as cur:
            cur.execute(
                f"insert into raw.{source}_history ({cols}, _file_id, _line, _arrived_at) values ({ph}, 1, %s, now())",
                (*values, line),
            )
            cur.execute(
                f"""insert into raw.{source} ({cols}, _file_id, _line, _arrived_at) values ({ph}, 1, %s, now())
                    on conflict ({', '.join(key)}) do update set {updates}, _line = excluded._line""",
                (*values, line),
            )

    def history(self, n: int = 360, seed: int = 3):
        """``n`` decided photos over 2025 by five photographers: accepted mostly when the
        image is sharp and well exposed (and well keyworded); some sell."""
        rng = random.Random(seed)
        owners = [f"pro{i}" for i in range(5)]
        for o in owners:
            self.user(o, auto_licensing=False)
        words = ["boat", "lake", "dawn", "red", "calm", "water", "city", "tree", "sky", "people", "food", "car"]
        for i in range(n):
            kind = rng.choices(["sharp", "blurred", "dark"], [0.5, 0.25, 0.25])[0]
            kw = rng.randrange(0, 11)
            uploaded = T0 + timedelta(days=330 * i / n, hours=rng.randrange(24))
            pid = f"h{i:04d}"
            people = rng.random() < 0.2
            release = people and rng.random() < 0.5
            self.photo(pid, rng.choice(owners), uploaded, kind=kind, n=i, keywords=";".join(rng.sample(words, min(kw, len(words)))) or None,
                       category=rng.choice(["travel", "nature", "food", "city"]), has_people=people, model_release=release)
            p_accept = (0.95 if kw >= 4 else 0.7) if kind == "sharp" else 0.05
            accepted = rng.random() < p_accept
            decided = uploaded + timedelta(days=2)
            decision = ("changes_required" if people and not release else "accepted") if accepted else "rejected"
            self.decide(pid, decision, decided)
            if accepted and rng.random() < (0.6 if kw >= 6 else 0.2):
                self.sale(f"s{i:04d}", pid, decided + timedelta(days=rng.randrange(1, 80)))



"""The marketplace itself: users, photos, inspections, sales, licenses and region consents,
with the scenarios other parts of Lightbox are tested on planted among random rows.

Rows are streamed to the CSV files as they are made, so the large scale (1,000,000 photo rows)
never holds the photos in memory; what the tests and the demo need to check is accumulated in
``self.expected`` (lists only while the scale is small enough to list).
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from lightbox.seed import vocab
from lightbox.seed.images import VARIANTS, ImageInfo
from lightbox.seed.writer import Landing

SCALES = {
    # users, photos
    "small": (60, 400),
    "medium": (2_000, 20_000),
    "large": (50_000, 1_000_000),
}
LIST_LIMIT = 50_000  # above this many photos, expected lists become counts
PHOTOS_PER_FILE = 250_000
# Sample photos (by index) whose copies are planted on the sample sites and stock sites:
# no other photo of these scenes is exclusive, so each planted copy matches one photo only.
PLANTED_BASES = range(0, 12)

_TZ: dict[float, timezone] = {}


def local(dt: datetime, offset_hours: float) -> datetime:
    if offset_hours not in _TZ:
        _TZ[offset_hours] = timezone(timedelta(hours=offset_hours))
    return dt.astimezone(_TZ[offset_hours])


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


@dataclass
class User:
    user_id: str
    username: str
    country: str
    joined_at: datetime
    offset: float
    default_exclusive: bool
    kind: str  # auto_join, auto_later, auto_out, hand, never
    opt_in_at: datetime | None = None
    opt_out_at: datetime | None = None
    deleted_at: datetime | None = None
    # (region) -> list of (at, action) user-level consent events, in time order
    consents: dict = field(default_factory=dict)

    def opted_in_at(self, at: datetime) -> bool:
        if self.opt_in_at is None or at < self.opt_in_at:
            return False
        return self.opt_out_at is None or at < self.opt_out_at


@dataclass
class Photo:
    photo_id: str
    owner: User
    uploaded_at: datetime
    image: ImageInfo
    row: dict
    exclusive: bool | None
    submitted: bool
    removed_at: datetime | None = None
    deleted_at: datetime | None = None
    owner_id: str | None = None  # set to a missing user for the orphan plant

    @property
    def effective_exclusive(self) -> bool:
        return self.owner.default_exclusive if self.exclusive is None else self.exclusive


class Market:
    def __init__(self, landing: Landing, library: list[ImageInfo], *, scale: str, seed: int, as_of: datetime):
        self.landing = landing
        self.library = library
        self.scale = scale
        self.seed = seed
        self.as_of = as_of
        self.start = as_of - timedelta(days=540)
        self.n_users, self.n_photos = SCALES[scale]
        self.list_all = self.n_photos <= LIST_LIMIT
        self.rng = random.Random(f"lightbox-seed/{seed}/market")
        self.by_base: dict[int, list[ImageInfo]] = {}
        for info in library:
            self.by_base.setdefault(info.base_index, []).append(info)
        self.users: list[User] = []
        self.users_by_key: dict[str, User] = {}
        self.planted: dict[str, Photo] = {}
        self.photo_seq = 0
        self.sale_seq = 0
        self.license_seq = 0
        self.event_seq = 0
        self.reexport_pool: list[dict] = []
        self.expected_aiscan = {
            "eligible": [], "eligible_count": 0, "planted": [], "drift_batch": [], "absurd_exif": [],
            "orphan_photos": [], "missing_image": [], "unreadable_image": [],
            "acceptance_by_variant": {k: [0, 0] for k in VARIANTS},
        }
        self.expected_replication = {
            "cn_enforceable": False,
            "eu": [], "cn": [], "cn_if_enforceable": [],
            "counts": {"eu": 0, "cn": 0, "cn_if_enforceable": 0},
            "planted": [],
        }
        self.exclusive_ids: list[str] = []
        self.exclusive_count = 0
        # files
        self.f_users = landing.file("users", "users_0001.csv")
        self.f_users_optin = landing.file("users", "users_0002_optin.csv")
        self.f_users_changes = landing.file("users", "users_0003_changes.csv")
        self.f_photo_updates = landing.file("photos", "photos_0090_updates.csv")
        self.f_inspections = landing.file("inspections", "inspections_0001.csv")
        self.f_sales = landing.file("sales", "sales_0001.csv")
        self.f_licenses = landing.file("licenses", "licenses_0001.csv")
        self.f_consents_user = landing.file("region_consents", "region_consents_0001_users.csv")
        self.f_consents_photo = landing.file("region_consents", "region_consents_0002_photos.csv")

    # --- helpers ------------------------------------------------------------------------

    def t(self, days: float) -> datetime:
        """as_of minus/plus ``days`` (negative = before), to the second."""
        return (self.as_of + timedelta(days=days)).replace(microsecond=0)

    def between(self, lo: datetime, hi: datetime) -> datetime:
        if hi <= lo:
            return lo
        return lo + timedelta(seconds=int(self.rng.random() * (hi - lo).total_seconds()))

    def next_photo_id(self) -> str:
        self.photo_seq += 1
        return f"p{self.photo_seq:07d}"

    def photos_file(self):
        index = 1 + (self.photo_seq - 1) // PHOTOS_PER_FILE
        return self.landing.file("photos", f"photos_{index:04d}.csv")

    # --- users --------------------------------------------------------------------------

    def add_user(self, n: int, username: str, *, kind: str, country: str, joined_at: datetime,
                 default_exclusive: bool = False, opt_in_at=None, opt_out_at=None, deleted_at=None,
                 key: str | None = None) -> User:
        user = User(
            user_id=f"u{n:06d}", username=username, country=country, joined_at=joined_at,
            offset=self.rng.choice(vocab.OFFSETS), default_exclusive=default_exclusive, kind=kind,
            opt_in_at=opt_in_at, opt_out_at=opt_out_at, deleted_at=deleted_at,
        )
        if kind == "auto_join":
            user.opt_in_at = joined_at
        self.users.append(user)
        if key:
            self.users_by_key[key] = user
        return user

    def write_users(self) -> None:
        for user in self.users:
            base = {
                "user_id": user.user_id, "username": user.username, "country": user.country,
                "joined_at": local(user.joined_at, user.offset), "default_exclusive": user.default_exclusive,
            }
            at_join = user.opt_in_at is not None and user.opt_in_at <= user.joined_at
            self.f_users.write({**base, "auto_licensing": at_join, "updated_at": local(user.joined_at, user.offset)})
            if user.opt_in_at is not None and not at_join:
                self.f_users_optin.write({**base, "auto_licensing": True, "updated_at": local(user.opt_in_at, user.offset)})
            if user.opt_out_at is not None:
                self.f_users_changes.write({**base, "auto_licensing": False, "updated_at": local(user.opt_out_at, user.offset)})
            if user.deleted_at is not None:
                self.f_users_changes.write({
                    **base, "auto_licensing": user.opted_in_at(user.deleted_at),
                    "updated_at": local(user.deleted_at, user.offset), "deleted_at": local(user.deleted_at, user.offset),
                })

    def user_consent(self, user: User, region: str, action: str, at: datetime) -> None:
        self.event_seq += 1
        self.f_consents_user.write({
            "event_id": f"rc{self.event_seq:08d}", "user_id": user.user_id, "region": region,
            "photo_id": None, "action": action, "at": local(at, user.offset),
        })
        user.consents.setdefault(region, []).append((at, action))

    def photo_consent(self, photo: Photo, region: str, action: str, at: datetime, events: dict) -> None:
        self.event_seq += 1
        self.f_consents_photo.write({
            "event_id": f"rc{self.event_seq:08d}", "user_id": photo.owner.user_id, "region": region,
            "photo_id": photo.photo_id, "action": action, "at": local(at, photo.owner.offset),
        })
        events.setdefault(region, []).append((at, action))

    def make_bulk_users(self, first_n: int) -> None:
        rng = self.rng
        kinds = ("auto_join", "auto_later", "auto_out", "hand", "never")
        weights = (0.15, 0.2, 0.08, 0.25, 0.32)
        for n in range(first_n, self.n_users + 1):
            kind = rng.choices(kinds, weights)[0]
            joined = self.between(self.start, self.t(-120))
            username = f"{rng.choice(vocab.FIRST)}_{rng.choice(vocab.LAST)}{n}"
            user = self.add_user(
                n, username, kind=kind, country=rng.choice(vocab.COUNTRIES), joined_at=joined,
                default_exclusive=rng.random() < 0.2,
            )
            if kind in ("auto_later", "auto_out"):
                user.opt_in_at = self.between(joined + timedelta(days=10), self.t(-90))
                if kind == "auto_out":
                    user.opt_out_at = self.between(user.opt_in_at + timedelta(days=5), self.t(-20))
            if rng.random() < 0.004:
                user.deleted_at = self.between(joined + timedelta(days=30), self.t(-5))
            for region, p in (("eu", 0.35), ("cn", 0.15)):
                if rng.random() < p:
                    granted = self.between(joined, joined + timedelta(days=200))
                    granted = min(granted, self.t(-60))
                    self.user_consent(user, region, "grant", granted)
                    if rng.random() < 0.15:
                        self.user_consent(user, region, "revoke", self.between(granted + timedelta(days=1), self.t(-30)))

    # --- photos -------------------------------------------------------------------------

    def metadata(self, image: ImageInfo) -> dict:
        rng = self.rng
        category, nouns, words = vocab.BASES[image.base]
        if rng.random() < 0.12:
            category = rng.choice(vocab.OTHER_CATEGORIES)
        title = f"{rng.choice(vocab.ADJECTIVES).capitalize()} {rng.choice(nouns)}" if rng.random() > 0.08 else None
        description = None
        if rng.random() > 0.3:
            description = f"{rng.choice(nouns).capitalize()}, photographed in {rng.choice(vocab.ADJECTIVES)} light."
        r = rng.random()
        n_kw = 0 if r < 0.06 else rng.randint(1, 4) if r < 0.3 else rng.randint(5, 15) if r < 0.85 else rng.randint(16, 40)
        pool = list(words) + list(vocab.GENERIC_KEYWORDS)
        kws = rng.sample(pool, min(n_kw, len(pool)))
        while len(kws) < n_kw:  # keyword stuffing: repeats
            kws.append(rng.choice(pool))
        make, model = rng.choice(vocab.CAMERAS)
        row = {
            "title": title, "description": description, "keywords": ";".join(kws) or None, "category": category,
            "width": image.width, "height": image.height,
            "camera_make": make, "camera_model": model, "focal_length_mm": rng.choice(vocab.FOCALS),
            "aperture": rng.choice(vocab.APERTURES), "iso": rng.choice(vocab.ISOS), "exposure_s": rng.choice(vocab.EXPOSURES),
            "image_path": image.image_path, "sha256": image.sha256,
        }
        if rng.random() < 0.05:
            for col in ("camera_make", "camera_model", "focal_length_mm", "aperture", "iso", "exposure_s"):
                row[col] = None  # EXIF stripped
        has_people = rng.random() < 0.15
        has_property = rng.random() < 0.12
        row["has_people"] = has_people
        row["has_property"] = has_property
        row["model_release"] = (rng.random() < 0.6) if has_people else None
        row["property_release"] = (rng.random() < 0.5) if has_property else None
        return row

    def meta_quality(self, row: dict) -> float:
        kws = row["keywords"].split(";") if row["keywords"] else []
        distinct = len(set(kws))
        kw_q = min(distinct, 10) / 10 - (0.3 if len(kws) > 30 else 0)
        return 0.5 * kw_q + 0.3 * (row["title"] is not None) + 0.2 * (row["description"] is not None)

    def new_photo(self, owner: User, uploaded_at: datetime, image: ImageInfo, *, exclusive=False,
                  submitted=False, overrides: dict | None = None) -> Photo:
        photo_id = self.next_photo_id()
        row = self.metadata(image)
        if overrides:
            row.update(overrides)
        return Photo(photo_id, owner, uploaded_at, image, row, exclusive, submitted)

    def emit(self, photo: Photo, consents: dict | None = None, *, file=None, inspect: bool = True) -> None:
        """Write a photo's rows (and what follows from it: inspections, sales, licenses) and
        account for it in the expectations."""
        owner = photo.owner
        up = local(photo.uploaded_at, owner.offset)
        row = {
            "photo_id": photo.photo_id, "owner_id": photo.owner_id or owner.user_id, "uploaded_at": up,
            **photo.row,
            "submitted_for_licensing": photo.submitted, "removed_from_licensing": False,
            "exclusive": photo.exclusive, "updated_at": up, "deleted_at": None,
        }
        (file or self.photos_file()).write(row)
        if photo.effective_exclusive and not photo.owner_id:
            self.exclusive_count += 1
            if self.list_all:
                self.exclusive_ids.append(photo.photo_id)
        if photo.removed_at is not None:
            at = local(photo.removed_at, owner.offset)
            self.f_photo_updates.write({**row, "removed_from_licensing": True, "updated_at": at})
            row = {**row, "removed_from_licensing": True}
        if photo.deleted_at is not None:
            at = local(photo.deleted_at, owner.offset)
            self.f_photo_updates.write({**row, "updated_at": at, "deleted_at": at})

        eligible_at_upload = photo.submitted or owner.opted_in_at(photo.uploaded_at)
        eligible = (
            eligible_at_upload and photo.removed_at is None and photo.deleted_at is None
            and owner.deleted_at is None and photo.owner_id is None
        )
        if eligible:
            self.expected_aiscan["eligible_count"] += 1
            if self.list_all:
                self.expected_aiscan["eligible"].append(photo.photo_id)

        if inspect and eligible_at_upload and photo.uploaded_at < self.t(-14):
            self.inspect(photo)
        self.replicate(photo, consents or {})

    def inspect(self, photo: Photo) -> None:
        rng = self.rng
        row = photo.row
        decided = min(photo.uploaded_at + timedelta(hours=rng.uniform(2, 240)), self.t(-1))
        decided = decided.replace(microsecond=0)
        inspector = rng.choice(vocab.INSPECTORS)
        pix = photo.image.quality
        meta = self.meta_quality(row)
        logit = -2.6 + 4.4 * pix + 2.2 * meta + vocab.CATEGORY_ACCEPT.get(row["category"], -0.3) + rng.gauss(0, 0.45)
        missing_release = (row["has_people"] and not row["model_release"]) or (row["has_property"] and not row["property_release"])
        if missing_release and rng.random() < 0.9:
            decision = "changes_required"
            reason = "model release missing" if row["has_people"] and not row["model_release"] else "property release missing"
        elif rng.random() < sigmoid(logit):
            decision, reason = "accepted", None
        else:
            decision = "rejected"
            pixel_reason = VARIANTS[photo.image.kind][1]
            if pixel_reason and pix < 0.6:
                reason = pixel_reason
            elif not row["keywords"] or len(row["keywords"].split(";")) < 4:
                reason = "not enough keywords"
            elif row["title"] is None:
                reason = "title missing"
            else:
                reason = rng.choice(("limited commercial value", "similar content already in the collection", pixel_reason or "composition"))
        self.f_inspections.write({
            "photo_id": photo.photo_id, "inspector_id": inspector, "decision": decision, "reason": reason,
            "decided_at": decided,
        })
        if decision != "changes_required":
            tally = self.expected_aiscan["acceptance_by_variant"][photo.image.kind]
            tally[0] += decision == "accepted"
            tally[1] += 1
        if decision == "accepted":
            self.sell(photo, decided, pix)

    def sell(self, photo: Photo, accepted_at: datetime, pix: float) -> None:
        rng = self.rng
        row = photo.row
        kw = min(len(row["keywords"].split(";")) if row["keywords"] else 0, 15) / 15
        p = sigmoid(-2.2 + 2.4 * pix + 1.3 * kw + vocab.CATEGORY_SALES.get(row["category"], 0.0))
        if rng.random() >= p:
            return
        at = accepted_at
        first = True
        while True:
            at = at + timedelta(days=rng.uniform(0.5, 90 if first else 200), seconds=rng.randint(0, 3600))
            at = at.replace(microsecond=0)
            if at >= self.as_of:
                return
            first = False
            self.sale_seq += 1
            extended = rng.random() < 0.12
            currency = rng.choices(("USD", "EUR", "GBP"), (0.8, 0.12, 0.08))[0]
            amount = Decimal(rng.choice(("49.00", "79.00", "149.00", "199.00") if extended else ("2.99", "4.99", "9.99", "14.50", "29.00")))
            sale = {
                "sale_id": f"s{self.sale_seq:08d}", "photo_id": photo.photo_id, "sold_at": at,
                "license_type": "extended" if extended else "standard", "amount": amount, "currency": currency,
            }
            self.f_sales.write(sale)
            if self.sale_seq % 17 == 0 and len(self.reexport_pool) < 5000:
                self.reexport_pool.append(sale)
            if rng.random() < 0.25:
                self.license(photo.photo_id, at, rng.random() < 0.5)
            if rng.random() < 0.55:
                return

    def license(self, photo_id: str, starts: datetime, perpetual: bool, *, licensee=None, domain=None, ends=None, file=None) -> str:
        rng = self.rng
        self.license_seq += 1
        if domain is None:
            word, noun = rng.choice(vocab.LICENSEE_WORDS), rng.choice(vocab.LICENSEE_NOUNS)
            domain = f"{word}{noun}.{rng.choice(vocab.TLDS)}"
            licensee = f"{word.capitalize()} {noun.capitalize()} Ltd"
        if ends is None and not perpetual:
            ends = starts + timedelta(days=365)
        license_id = f"l{self.license_seq:07d}"
        (file or self.f_licenses).write({
            "license_id": license_id, "photo_id": photo_id, "licensee": licensee, "licensee_domain": domain,
            "starts_at": starts, "ends_at": ends,
        })
        return license_id

    def replicate(self, photo: Photo, photo_events: dict) -> None:
        owner = photo.owner
        gone = photo.deleted_at is not None or owner.deleted_at is not None or photo.owner_id is not None
        for region in ("eu", "cn"):
            p_events = sorted(photo_events.get(region, []))
            u_events = sorted(owner.consents.get(region, []))
            photo_action = p_events[-1][1] if p_events else None
            user_action = u_events[-1][1] if u_events else None
            state = photo_action or user_action
            granted = state == "grant" and not gone
            targets = [region] if region == "eu" else ["cn_if_enforceable"]
            if region == "cn" and granted and (not photo.effective_exclusive or photo_action == "grant"):
                targets.append("cn")
            for target in targets:
                if granted:
                    self.expected_replication["counts"][target] += 1
                    if self.list_all:
                        self.expected_replication[target].append(photo.photo_id)

    def random_consents(self, photo: Photo) -> dict:
        """Occasional photo-level overrides, always later than the owner's user-level events
        for that region (so "photo overrides user" and "latest event wins" agree)."""
        rng = self.rng
        events: dict = {}
        if rng.random() >= 0.04:
            return events
        region = rng.choice(("eu", "cn"))
        u_events = photo.owner.consents.get(region, [])
        lo = max([photo.uploaded_at] + [at for at, _ in u_events]) + timedelta(hours=1)
        if lo >= self.t(-1):
            return events
        action = "revoke" if u_events and u_events[-1][1] == "grant" else "grant"
        self.photo_consent(photo, region, action, self.between(lo, self.t(-1)), events)
        return events

    def bulk_photos(self, count: int) -> None:
        rng = self.rng
        planted_ids = {v.user_id for v in self.users_by_key.values()}
        bulk_users = [u for u in self.users if u.user_id not in planted_ids]
        weights = [rng.paretovariate(1.3) for _ in bulk_users]
        total = 0.0
        cum = []
        for w in weights:
            total += w
            cum.append(total)
        for _ in range(count):
            owner = rng.choices(bulk_users, cum_weights=cum)[0]
            last = self.t(-4) if owner.deleted_at is None else owner.deleted_at - timedelta(hours=1)
            uploaded = self.between(owner.joined_at + timedelta(hours=1), last)
            image = rng.choice(self.library)
            if image.base_index in PLANTED_BASES:
                exclusive = False
            elif owner.default_exclusive:
                exclusive = None if rng.random() < 0.5 else rng.random() < 0.7
            else:
                exclusive = rng.random() < 0.2
            if exclusive is None and image.base_index in PLANTED_BASES:
                exclusive = False
            submitted = False
            if owner.kind == "hand":
                submitted = rng.random() < 0.6
            elif owner.kind in ("auto_later", "auto_out") and not owner.opted_in_at(uploaded):
                submitted = rng.random() < 0.15
            photo = self.new_photo(owner, uploaded, image, exclusive=exclusive, submitted=submitted)
            if rng.random() < 0.004:
                photo.row.update(rng.choice(vocab.ABSURD_EXIF))
                if self.list_all:
                    self.expected_aiscan["absurd_exif"].append(photo.photo_id)
            if rng.random() < 0.02:
                photo.deleted_at = self.between(uploaded + timedelta(hours=2), self.t(-1))
            elif rng.random() < 0.02:
                photo.removed_at = self.between(uploaded + timedelta(hours=1), self.t(-1))
            self.emit(photo, self.random_consents(photo))

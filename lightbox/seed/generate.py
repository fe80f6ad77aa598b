"""``generate``: the whole sample marketplace, its websites and the manifest ``_seed.json`` that
says what was planted where (so tests and the demo can check each part of Lightbox)."""
from __future__ import annotations

import dataclasses
import json
import random
import time
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from lightbox.seed import websites
from lightbox.seed.images import build_library
from lightbox.seed.market import SCALES, Market, Photo, User
from lightbox.seed.writer import Landing, cell

DEFAULT_AS_OF = datetime(2026, 10, 1, tzinfo=timezone.utc)
DEFAULT_PORT = 8765
FX_CURRENCIES = ("USD", "EUR", "GBP", "JPY", "KWD")
FX_START = {"USD": Decimal(1), "EUR": Decimal("1.0850"), "GBP": Decimal("1.2700"), "JPY": Decimal("0.006700"), "KWD": Decimal("3.2500")}
MINOR_UNITS = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "KWD": 3, "CHF": 2}


def _as_datetime(value) -> datetime:
    if value is None:
        return DEFAULT_AS_OF
    if isinstance(value, datetime):
        dt = value
    else:
        dt = datetime.fromisoformat(str(value))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def _money(value: str, currency: str) -> Decimal:
    return Decimal(value).quantize(Decimal(1).scaleb(-MINOR_UNITS[currency]), rounding=ROUND_HALF_EVEN)


def _clean_previous(out: Path) -> None:
    """Remove the files a previous run wrote (listed in its manifest), and nothing else."""
    manifest = out / "_seed.json"
    if not manifest.exists():
        return
    try:
        previous = json.loads(manifest.read_text())
    except ValueError:
        return
    for rel in previous.get("files", []):
        path = (out / rel).resolve()
        if out.resolve() in path.parents and path.is_file():
            path.unlink()


def generate(out, scale: str = "small", seed: int = 7, sites_dir=None, as_of=None, sites_port: int = DEFAULT_PORT) -> dict:
    """Write the sample marketplace into the landing folder ``out`` and its websites into
    ``sites_dir``; return a summary (also in ``out/_seed.json`` with the expectations)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    started = time.monotonic()
    out = Path(out).expanduser().resolve()
    from lightbox.config import settings

    home = settings().home
    if sites_dir is None:
        sites_dir = home / "sites"
    sites_dir = Path(sites_dir).expanduser().resolve()
    as_of = _as_datetime(as_of)
    out.mkdir(parents=True, exist_ok=True)
    _clean_previous(out)
    images_dir = out / "images"
    library = build_library(images_dir, cache_dir=home / "cache")

    landing = Landing(out)
    market = Market(landing, library, scale=scale, seed=seed, as_of=as_of)
    plants = _Plants(market, out)
    plants.users()
    market.make_bulk_users(len(market.users) + 1)
    market.write_users()
    plants.photos()
    n_drift = max(12, market.n_photos // 500)
    bulk = market.n_photos - market.photo_seq - n_drift - 3
    market.bulk_photos(max(0, bulk))
    plants.drift_batch(n_drift)
    plants.edge_case_photos()
    plants.sales_reexport()
    plants.licenses()

    import shutil

    for host in websites.HOSTS:
        shutil.rmtree(sites_dir / host, ignore_errors=True)
    sites = websites.build(
        sites_dir, sites_port, plants.by_key, images_dir, as_of=as_of,
        pool_listings=max(0, market.n_photos // 200 - 4), reporter_id=plants.by_key["F"].owner.user_id,
    )
    f_stock = landing.file("stock_listings", "stock_listings_0001.csv")
    for row in sites.stock_rows:
        f_stock.write(row)
    f_seeds = landing.file("crawl_seeds", "crawl_seeds_0001.csv")
    for row in sites.crawl_seeds:
        f_seeds.write(row)
    plants.port = sites_port
    settlement = plants.settlement(sites)
    missing_eur_day = plants.fx_rates()
    quarantine, landing_notes = plants.defects()
    landing.close()

    files = sorted(
        str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != "_seed.json"
        and (p.parent == images_dir or str(p.relative_to(out)) in landing.files)
    )
    counts = dict(landing.counts)
    counts["images"] = len(list(images_dir.iterdir()))
    counts["site_files"] = sites.files
    expected = {
        "quarantine": quarantine,
        "landing": landing_notes,
        "infringement": sites.infringement,
        "cases": _cases(sites.infringement),
        "exclusivity": sites.exclusivity,
        "settlement": settlement,
        "replication": market.expected_replication,
        "aiscan": plants.aiscan_expectations(),
        "quality": {
            "sales_reexport": plants.reexport,
            "missing_fx": {"date": missing_eur_day.isoformat(), "currency": "EUR"},
            "photos_without_owner": list(market.expected_aiscan["orphan_photos"]),
            "drift_batch": {"file": "photos/photos_0080_recent.csv", "photo_ids": plants.drift_ids,
                            "category": "ai-generated", "keywords": None, "max_side": 320},
        },
        "exclusive_photos": {"count": market.exclusive_count, "photo_ids": market.exclusive_ids if market.list_all else None},
        "users": plants.user_notes(),
        "not_found_urls": sites.not_found,
    }
    port = sites_port
    manifest = {
        "generator": "lightbox.seed 1",
        "as_of": as_of.isoformat(),
        "scale": scale,
        "seed": seed,
        "sites_port": port,
        "sites_dir": str(sites_dir),
        "hosts": list(websites.HOSTS),
        "own_domains": list(websites.OWN_DOMAINS),
        "crawl_resolve": ",".join(f"{h}=127.0.0.1" for h in websites.HOSTS),
        "stock_feeds": f"pixelstockr=http://{websites.PIXELSTOCKR}:{port}/feed.json",
        "timeline": {"start": market.start.isoformat(), "fx_until": (as_of + timedelta(days=40)).date().isoformat()},
        "counts": counts,
        "files": files,
        "images": [info.as_dict() for info in library],
        "expected": expected,
    }
    (out / "_seed.json").write_text(json.dumps(manifest, indent=1, default=cell, sort_keys=False) + "\n", encoding="utf-8")
    summary = {"out": str(out), "sites_dir": str(sites_dir), "scale": scale, "seed": seed, "as_of": as_of.isoformat()}
    summary.update({k: v for k, v in counts.items()})
    summary["planted_quarantine_rows"] = len(quarantine)
    summary["planted_infringements"] = len(sites.infringement)
    summary["manifest"] = str(out / "_seed.json")
    summary["seconds"] = round(time.monotonic() - started, 1)
    return summary


def _cases(infringement: list[dict]) -> list[dict]:
    """The cases the sweep (and the exclusivity audit) should open: one per photo and registrable domain."""
    seen = {}
    for item in infringement:
        if item["expect"] == "case":
            seen.setdefault((item["photo_id"], item["infringer_domain"]), item)
    return [{"photo_id": p, "infringer_domain": d} for p, d in seen]


class _Plants:
    """The planted scenarios: named users and photos with known fates."""

    def __init__(self, market: Market, out: Path):
        self.m = market
        self.out = out
        self.by_key: dict[str, Photo] = {}
        self.aiscan: list[dict] = []
        self.replication: list[dict] = []
        self.drift_ids: list[str] = []
        self.reexport: dict = {}
        self.rng = random.Random(f"lightbox-seed/{market.seed}/plants")

    # users ---------------------------------------------------------------------------------
    def users(self) -> None:
        m, t = self.m, self.m.t
        add = m.add_user
        add(1, "maria_lopez", kind="auto_later", country="ES", joined_at=t(-480), default_exclusive=True, opt_in_at=t(-200), key="maria")
        add(2, "jonas_weber", kind="auto_out", country="DE", joined_at=t(-450), opt_in_at=t(-300), opt_out_at=t(-120), key="jonas")
        add(3, "akira_tanaka", kind="never", country="JP", joined_at=t(-430), key="akira")
        add(4, "lea_martin", kind="hand", country="FR", joined_at=t(-420), key="lea")
        add(5, "tom_becker", kind="auto_join", country="GB", joined_at=t(-400), deleted_at=t(-40), key="tom")
        add(6, "sven_olsen", kind="auto_join", country="SE", joined_at=t(-420), default_exclusive=True, key="sven")
        add(7, "nadia_rahman", kind="hand", country="NL", joined_at=t(-410), key="nadia")
        add(8, "chen_wei", kind="never", country="CN", joined_at=t(-400), key="chen")
        add(9, "olivia_smith", kind="auto_join", country="US", joined_at=t(-500), key="olivia")
        add(10, "priya_nair", kind="auto_join", country="IN", joined_at=t(-490), key="priya")
        u = m.users_by_key
        m.user_consent(u["maria"], "eu", "grant", t(-460))
        m.user_consent(u["maria"], "cn", "grant", t(-455))
        m.user_consent(u["akira"], "eu", "grant", t(-400))
        m.user_consent(u["tom"], "eu", "grant", t(-390))
        m.user_consent(u["chen"], "eu", "grant", t(-380))
        m.user_consent(u["chen"], "cn", "grant", t(-370))
        m.user_consent(u["chen"], "eu", "revoke", t(-90))

    def user_notes(self) -> dict:
        u = self.m.users_by_key
        notes = {
            "opt_in_later": {"user_id": u["maria"].user_id, "opt_in_at": u["maria"].opt_in_at.isoformat(), "default_exclusive": True},
            "opt_in_then_out": {"user_id": u["jonas"].user_id, "opt_in_at": u["jonas"].opt_in_at.isoformat(), "opt_out_at": u["jonas"].opt_out_at.isoformat()},
            "never_opted_never_submitted": [u["akira"].user_id, u["chen"].user_id],
            "hand_submitters": [u["lea"].user_id, u["nadia"].user_id],
            "deleted_user": {"user_id": u["tom"].user_id, "deleted_at": u["tom"].deleted_at.isoformat()},
            "stock_listing_owner": {"user_id": u["sven"].user_id, "username": "sven_olsen"},
            "reporter": u["nadia"].user_id,
            "where_is_example": u["maria"].user_id,
        }
        notes["planted_users"] = {key: user.user_id for key, user in u.items()}
        return notes

    # photos --------------------------------------------------------------------------------
    def image(self, slug: str, kind: str):
        return next(i for i in self.m.library if i.base == slug and i.kind == kind)

    def photo(self, key: str, owner: str, slug: str, kind: str, days: float, *, exclusive=False, submitted=False,
              consents=(), removed=None, deleted=None, overrides=None, scan: str | None = None, why: str = "",
              replication: dict | None = None) -> Photo:
        m = self.m
        photo = m.new_photo(m.users_by_key[owner], m.t(days), self.image(slug, kind), exclusive=exclusive,
                            submitted=submitted, overrides=overrides)
        if removed is not None:
            photo.removed_at = m.t(removed)
        if deleted is not None:
            photo.deleted_at = m.t(deleted)
        events: dict = {}
        for region, action, at in consents:
            m.photo_consent(photo, region, action, m.t(at), events)
        m.emit(photo, events)
        self.by_key[key] = photo
        if scan:
            self.aiscan.append({"key": key, "photo_id": photo.photo_id, "owner_id": photo.owner.user_id, "expect": scan, "why": why})
        if replication:
            self.m.expected_replication["planted"].append({"key": key, "photo_id": photo.photo_id, **replication})
        return photo

    def photos(self) -> None:
        p = self.photo
        no_release = {"has_people": True, "model_release": False, "has_property": False, "property_release": None}
        no_prop_release = {"has_people": False, "model_release": None, "has_property": True, "property_release": False}
        clean = {"has_people": False, "model_release": None, "has_property": False, "property_release": None}
        # maria: opts in at -200 days; exclusive photos; eu + cn user-level grants
        p("A", "maria", "aqua", "sharp", -260, exclusive=True, submitted=True, scan="scored", why="submitted by hand before her opt-in")
        p("maria_before", "maria", "wood", "soft", -230, scan="not_scored", why="uploaded before the owner's opt-in, not submitted",
          replication={"eu": True, "cn": True, "why": "user-level grants to eu and cn; not exclusive"})
        p("K", "maria", "painting-colors", "sharp", -150, exclusive=True, scan="scored", why="uploaded after the opt-in")
        p("L", "maria", "raindrops", "sharp", -140, exclusive=True)
        p("M", "maria", "storm", "sharp", -120, exclusive=True, consents=[("cn", "grant", -100)],
          replication={"eu": True, "cn": True, "why": "exclusive, but a photo-level grant to cn"})
        p("N", "maria", "twowings", "sharp", -110, exclusive=True,
          replication={"eu": True, "cn": False, "cn_if_enforceable": True, "why": "exclusive without a photo-level grant: not to non-enforceable cn"})
        p("maria_deleted", "maria", "yellowflower", "sharp", -80, deleted=-30, consents=[("cn", "grant", -70)],
          scan="not_scored", why="deleted", replication={"eu": False, "cn": False, "why": "photo deleted (despite grants)"})
        p("maria_eu_revoked", "maria", "wood", "crop", -70, consents=[("eu", "revoke", -40)],
          replication={"eu": False, "cn": True, "why": "photo-level revoke for eu overrides the user-level grant"})
        p("maria_after", "maria", "yellowflower", "blurred", -8, overrides=clean, scan="scored", why="uploaded while opted in (recent)")
        p("maria_removed", "maria", "wood", "noisy", -9, removed=-2, scan="not_scored", why="removed from licensing")
        p("maria_default_exclusive", "maria", "yellowflower", "colourshift", -6, exclusive=None, overrides=clean,
          scan="scored", why="auto-submitted; exclusivity empty, follows default_exclusive=true",
          replication={"eu": True, "cn": False, "cn_if_enforceable": True, "why": "exclusive by the owner's default; no photo-level cn grant"})
        # jonas: opt-in at -300, opt-out at -120
        p("jonas_before", "jonas", "storm", "lowres", -330, scan="not_scored", why="uploaded before the opt-in")
        p("jonas_between_1", "jonas", "storm", "soft", -250, scan="scored", why="uploaded while opted in")
        p("jonas_between_2", "jonas", "wood", "sharp", -200, scan="scored", why="uploaded while opted in")
        p("jonas_after", "jonas", "twowings", "noisy", -60, scan="not_scored", why="uploaded after the opt-out")
        p("jonas_after_hand", "jonas", "twowings", "soft", -5, submitted=True, overrides=clean, scan="scored", why="after the opt-out, but submitted by hand")
        # akira: never opted in, never submitted; eu grant
        for n, (slug, kind) in enumerate((("storm", "underexposed"), ("wood", "overexposed"), ("yellowflower", "sharp"))):
            p(f"akira_{n + 1}", "akira", slug, kind, -300 + 40 * n, scan="not_scored", why="owner never opted in and never submitted",
              replication={"eu": True, "cn": False, "why": "user-level eu grant only"})
        # lea: submits by hand; one photo-level eu grant
        p("lea_hand_1", "lea", "twowings", "sharp", -200, submitted=True, consents=[("eu", "grant", -30)], scan="scored", why="submitted by hand",
          replication={"eu": True, "cn": False, "why": "photo-level eu grant without a user-level grant"})
        p("lea_people_no_release", "lea", "storm", "sharp", -4, submitted=True, overrides=no_release, scan="scored",
          why="submitted by hand; people without a model release: changes_required if suitable")
        p("lea_property_no_release", "lea", "wood", "crop", -3, submitted=True, overrides=no_prop_release, scan="scored",
          why="submitted by hand; property without a property release: changes_required if suitable")
        p("lea_unsubmitted", "lea", "wood", "blurred", -100, scan="not_scored", why="not submitted; owner not opted in",
          replication={"eu": False, "cn": False, "why": "no grant"})
        # tom: deleted account with grants
        p("tom_1", "tom", "storm", "crop", -300, consents=[("cn", "grant", -100)], scan="not_scored", why="owner's account deleted",
          replication={"eu": False, "cn": False, "why": "account deleted (despite user-level eu and photo-level cn grants)"})
        p("tom_2", "tom", "yellowflower", "soft", -200, scan="not_scored", why="owner's account deleted",
          replication={"eu": False, "cn": False, "why": "account deleted"})
        # sven lists an exclusive photo on another stock site himself
        p("J", "sven", "ladybird", "sharp", -200, exclusive=True)
        p("sven_2", "sven", "storm", "jpeg", -90)
        # nadia reports a page that copies her photo
        p("F", "nadia", "garden", "sharp", -180, exclusive=True, submitted=True)
        p("nadia_absurd_exif", "nadia", "twowings", "crop", -7, submitted=True,
          overrides={**clean, "iso": 4096000000, "aperture": "0", "exposure_s": "-1", "focal_length_mm": "12000"},
          scan="scored", why="submitted by hand; absurd EXIF values must not crash the scan")
        self.m.expected_aiscan["absurd_exif"].append(self.by_key["nadia_absurd_exif"].photo_id)
        # chen: eu granted then revoked, cn granted
        for n in (1, 2):
            p(f"chen_{n}", "chen", "wood" if n == 1 else "storm", "sharp", -350 + 50 * n,
              replication={"eu": False, "cn": True, "why": "eu revoked at user level; cn granted; not exclusive"})
        # olivia and priya: exclusive photos copied around the sample web
        p("B", "olivia", "blinds", "sharp", -300, exclusive=True)
        p("C", "olivia", "dune", "sharp", -280, exclusive=True)
        p("G", "olivia", "greenmeadow", "sharp", -260, exclusive=True)
        p("H", "olivia", "infinite-sea", "sharp", -240, exclusive=True)
        p("D", "priya", "fossa", "crop", -220, exclusive=True)
        p("E", "priya", "freshflower", "sharp", -210, exclusive=True)
        p("I", "priya", "kleiber", "sharp", -190, exclusive=True)

    def drift_batch(self, count: int) -> None:
        m = self.m
        f = m.landing.file("photos", "photos_0080_recent.csv")
        owners = [u for u in m.users if u.kind == "auto_join" and u.deleted_at is None and u.user_id not in
                  {v.user_id for v in m.users_by_key.values()}] or [m.users_by_key["olivia"]]
        lowres = [i for i in m.library if i.kind == "lowres" and i.base_index >= 12]
        for n in range(count):
            owner = self.rng.choice(owners)
            photo = m.new_photo(owner, m.t(-3) + timedelta(minutes=int(self.rng.random() * 4000)), self.rng.choice(lowres), exclusive=False)
            photo.row.update({"category": "ai-generated", "keywords": None})
            m.emit(photo, {}, file=f, inspect=False)
            self.drift_ids.append(photo.photo_id)

    def edge_case_photos(self) -> None:
        """Photos the AI scan must handle without crashing: no owner, no image, a broken image."""
        m = self.m
        f = m.landing.file("photos", "photos_0081_edge_cases.csv")
        lea = m.users_by_key["lea"]
        base = self.image("storm", "sharp")
        ghost = User("u999999", "ghost", "US", m.start, 0, False, "never")
        orphan = m.new_photo(ghost, m.t(-2), base, submitted=True)
        orphan.owner_id = "u999999"
        m.emit(orphan, {}, file=f, inspect=False)
        m.expected_aiscan["orphan_photos"].append(orphan.photo_id)
        missing = dataclasses.replace(base, name="missing-upload.jpg", sha256=None)
        photo = m.new_photo(lea, m.t(-2), missing, submitted=True)
        m.emit(photo, {}, file=f, inspect=False)
        m.expected_aiscan["missing_image"].append(photo.photo_id)
        data = (self.out / base.image_path).read_bytes()[:3000]  # a truncated JPEG
        (self.out / "images" / "truncated-upload.jpg").write_bytes(data)
        import hashlib

        broken = dataclasses.replace(base, name="truncated-upload.jpg", sha256=hashlib.sha256(data).hexdigest())
        photo = m.new_photo(lea, m.t(-2), broken, submitted=True)
        m.emit(photo, {}, file=f, inspect=False)
        m.expected_aiscan["unreadable_image"].append(photo.photo_id)

    def aiscan_expectations(self) -> dict:
        a = self.m.expected_aiscan
        acc = {k: {"accepted": v[0], "decided": v[1], "rate": round(v[0] / v[1], 3) if v[1] else None}
               for k, v in a.pop("acceptance_by_variant").items()}
        a["acceptance_by_variant"] = acc
        a["planted"] = self.aiscan
        a["drift_batch"] = self.drift_ids
        if not self.m.list_all:
            a["eligible"] = None
        return a

    # sales, licenses -----------------------------------------------------------------------
    def sales_reexport(self) -> None:
        m = self.m
        f = m.landing.file("sales", "sales_0002_reexport.csv")
        pairs = []
        for sale in m.reexport_pool:
            m.sale_seq += 1
            new_id = f"s{m.sale_seq:08d}"
            f.write({**sale, "sale_id": new_id})
            pairs.append([new_id, sale["sale_id"]])
        self.reexport = {"file": "sales/sales_0002_reexport.csv", "rows": len(pairs),
                         "pairs": pairs if m.list_all else pairs[:100], "repeats_file": "sales/sales_0001.csv"}

    def licenses(self) -> None:
        m, t = self.m, self.m.t
        g, h, c = self.by_key["G"], self.by_key["H"], self.by_key["C"]
        self.license_ids = {
            "G": m.license(g.photo_id, t(-100), False, licensee="Licensed Agency Ltd", domain="licensed-agency.com", ends=t(265)),
            "H": m.license(h.photo_id, t(-200), True, licensee="Licensed Agency Ltd", domain="licensed-agency.com"),
            "C_expired": m.license(c.photo_id, t(-400), False, licensee="Daily Foto News", domain="dailyfotonews.com", ends=t(-30)),
        }

    # settlement ----------------------------------------------------------------------------
    def settlement(self, sites) -> dict:
        m, t = self.m, self.m.t
        k = self.by_key
        dom = {key: next(i["infringer_domain"] for i in sites.infringement if i["photo_id"] == k[key].photo_id)
               for key in ("A", "B", "C", "D", "E", "F", "J", "K")}
        unmatched_photo = self.by_key["sven_2"]
        missing_day = (m.as_of + timedelta(days=12)).date()
        self.missing_eur_day = missing_day
        lines: list[dict] = []

        def line(f, partner, report, line_id, key, gross, currency, fee, days, expect, *, photo_id=None, domain=None, reverses=None, note=""):
            row = {
                "partner": partner, "report_id": report, "line_id": line_id, "case_ref": None,
                "photo_id": photo_id or k[key].photo_id, "infringer_domain": domain or dom[key],
                "gross_amount": _money(gross, currency), "currency": currency, "partner_fee": _money(fee, currency),
                "collected_at": t(days) if not isinstance(days, datetime) else days,
            }
            if reverses is not None:
                row["reverses_line_id"] = reverses
            line_no = f.write(row)
            lines.append({**{c: cell(v) for c, v in row.items()}, "file": f.rel, "line": line_no, "expect": expect, "note": note})
            return row

        lf = m.landing.file
        f1 = lf("settlement_reports", "copytrack_2026-10-A.csv")
        good_ct = line(f1, "copytrack", "CT-2026-10-A", "CT-1001", "A", "250.00", "USD", "75.00", 3, "credit")
        resend = line(f1, "copytrack", "CT-2026-10-A", "CT-1002", "B", "180.00", "EUR", "54.00", 5, "credit")
        line(f1, "copytrack", "CT-2026-10-A", "CT-1003", None, "95.00", "USD", "28.50", 6, "unmatched_case",
             photo_id=unmatched_photo.photo_id, domain="random-recipes.org", note="no case for this photo and domain")
        line(f1, "copytrack", "CT-2026-10-A", "CT-1004", "C", "120.00", "EUR", "36.00",
             datetime.combine(missing_day, datetime.min.time(), timezone.utc) + timedelta(hours=10), "missing_fx_rate",
             note=f"collected on {missing_day}, a day without an EUR rate")
        line(f1, "copytrack", "CT-2026-10-A", "CT-1005", "D", "60.00", "USD", "18.00", -10, "collected_before_case_opened",
             note="collected before as_of, when the case was opened")
        f2 = lf("settlement_reports", "copytrack_2026-10-B.csv")
        line(f2, "copytrack", "CT-2026-10-B", "CT-1101", "A", "250.00", "USD", "75.00", good_ct["collected_at"], "duplicate_line",
             note="same collection as CT-1001, delivered again in another report")
        line(f2, "copytrack", "CT-2026-10-B", "CT-1102", "J", "70.00", "USD", "21.00", 9, "unmatched_case",
             note="photo on exclusivity hold: no case was opened")
        # the very same line (same key, same content) re-delivered in another file
        f3 = lf("settlement_reports", "copytrack_2026-10-A_resend.csv")
        f3.write({kk: vv for kk, vv in resend.items()})
        resent = {"file": f3.rel, "line": 2, "key": ["copytrack", "CT-2026-10-A", "CT-1002"],
                  "expect": "same key as an earlier line: one line in raw, credited once"}
        extra = ("reverses_line_id",)
        f4 = lf("settlement_reports", "pixsy_2026-41.csv", extra_columns=extra)
        line(f4, "pixsy", "PX-2026-41", "PX-0001", "C", "45000", "JPY", "13500", 7, "credit")
        line(f4, "pixsy", "PX-2026-41", "PX-0002", "D", "95.250", "KWD", "28.575", 8, "credit", note="later reversed by PX-0101")
        line(f4, "pixsy", "PX-2026-41", "PX-0003", "E", "40.00", "USD", "55.00", 10, "fee_exceeds_gross")
        line(f4, "pixsy", "PX-2026-41", "PX-0004", "F", "-30.00", "USD", "0.00", 11, "negative_gross_without_reversal")
        line(f4, "pixsy", "PX-2026-41", "PX-0005", "K", "300.00", "USD", "90.00", 14, "credit")
        line(f4, "pixsy", "PX-2026-41", "PX-0006", "E", "100.00", "CHF", "30.00", 15, "unknown_currency",
             note="no fx rates exist for CHF")
        f5 = lf("settlement_reports", "pixsy_2026-43.csv", extra_columns=extra)
        line(f5, "pixsy", "PX-2026-43", "PX-0101", "D", "-95.250", "KWD", "-28.575", 20, "reversal", reverses="PX-0002",
             note="reverses PX-0002 in full (extra column reverses_line_id)")
        f6 = lf("settlement_reports", "imagerights_2026-10.csv")
        line(f6, "imagerights", "IR-2026-10", "IR-7", "F", "60.00", "GBP", "21.00", 18, "credit")
        line(f6, "imagerights", "IR-2026-10", "IR-8", "E", "1500", "JPY", "450", 21, "credit")
        return {"lines": lines, "resent_same_key": resent, "missing_fx_date": missing_day.isoformat(),
                "currencies": {c: MINOR_UNITS[c] for c in ("USD", "EUR", "GBP", "JPY", "KWD")}}

    def fx_rates(self) -> date:
        m = self.m
        rng = random.Random(f"lightbox-seed/{m.seed}/fx")
        first = m.start.date()
        last = (m.as_of + timedelta(days=40)).date()
        rates = dict(FX_START)
        day = first
        files = {}
        while day <= last:
            f = files.get(day.year) or m.landing.file("fx_rates", f"fx_rates_{day.year}.csv")
            files[day.year] = f
            for currency in FX_CURRENCIES:
                if currency != "USD":
                    rates[currency] *= Decimal(1 + rng.gauss(0, 0.004)).quantize(Decimal("0.000001"))
                if currency == "EUR" and day == self.missing_eur_day:
                    continue
                f.write({"rate_date": day, "currency": currency, "usd_per_unit": rates[currency].quantize(Decimal("0.00000001"))})
            day += timedelta(days=1)
        return self.missing_eur_day

    # contract-breaking rows ----------------------------------------------------------------
    def defects(self) -> tuple[list[dict], dict]:
        m, t = self.m, self.m.t
        lf = m.landing.file
        q: list[dict] = []

        def bad(f, row, kind, detail, raw_line: str | None = None):
            if raw_line is None:
                line = f.write(row)
            else:
                f.fh.write(raw_line)
                f.line += 1
                f.rows += 1
                f.landing.counts[f.source] += 1
                line = f.line
            q.append({"source": f.source, "file": f.rel, "line": line, "kind": kind, "detail": detail})

        lea = m.users_by_key["lea"]
        some_photo = self.by_key["sven_2"]
        fu = lf("users", "users_0099_defects.csv")
        fu.write({"user_id": "u900001", "username": "late_joiner", "country": "PT", "joined_at": t(-2), "auto_licensing": False,
                  "default_exclusive": False, "updated_at": t(-2)})
        bad(fu, {"user_id": "u900002", "username": "no_offset", "country": "IT", "joined_at": "2026-09-20T08:00:00",
                 "auto_licensing": False, "default_exclusive": False, "updated_at": t(-11)}, "timestamp_without_offset", "joined_at 2026-09-20T08:00:00")
        bad(fu, {"user_id": "u900003", "username": "bad_country", "country": "UK", "joined_at": t(-10), "auto_licensing": False,
                 "default_exclusive": False, "updated_at": t(-10)}, "bad_country_code", "country UK (ISO 3166-1 says GB)")

        fp = lf("photos", "photos_0099_defects.csv")
        base = self.image("storm", "soft")
        photo_row = {"uploaded_at": t(-3), "title": "Storm", "keywords": "storm;sky", "category": "nature", "width": base.width,
                     "height": base.height, "submitted_for_licensing": True, "removed_from_licensing": False, "exclusive": False,
                     "image_path": base.image_path, "sha256": base.sha256, "updated_at": t(-3)}
        bad(fp, {**photo_row, "photo_id": "p9000001", "owner_id": None}, "missing_required_value", "owner_id is empty")
        cols = fp.columns
        utf_row = {**photo_row, "photo_id": "p9000002", "owner_id": lea.user_id, "title": "TITLE_PLACEHOLDER"}
        import csv
        import io

        buf = io.StringIO()
        csv.writer(buf).writerow([cell(utf_row.get(c)) for c in cols])
        raw = buf.getvalue().encode("utf-8").replace(b"TITLE_PLACEHOLDER", b"Caf\xe9 \xff\xfe in Lisbon")
        fp.fh.flush()
        fp.fh.buffer.write(raw)
        fp.fh.buffer.flush()
        fp.line += 1
        fp.rows += 1
        m.landing.counts["photos"] += 1
        q.append({"source": "photos", "file": fp.rel, "line": fp.line, "kind": "invalid_utf8", "detail": "title has bytes 0xe9 0xff 0xfe (Latin-1, not UTF-8)"})
        fp.write({**photo_row, "photo_id": "p9000003", "owner_id": lea.user_id, "exclusive": "maybe"})
        q.append({"source": "photos", "file": fp.rel, "line": fp.line, "kind": "bad_boolean", "detail": "exclusive 'maybe'"})

        fi = lf("inspections", "inspections_0099_defects.csv")
        bad(fi, {"photo_id": some_photo.photo_id, "inspector_id": "insp_03", "decision": "maybe_later", "reason": "unsure",
                 "decided_at": t(-1)}, "unknown_enum_value", "decision maybe_later")

        fs = lf("sales", "sales_0099_defects.csv")
        fs.write({"sale_id": "s90000001", "photo_id": some_photo.photo_id, "sold_at": t(-2), "license_type": "standard",
                  "amount": Decimal("9.99"), "currency": "USD"})
        bad(fs, {"sale_id": "s90000002", "photo_id": some_photo.photo_id, "sold_at": t(-2), "license_type": "standard",
                 "amount": Decimal("9.99"), "currency": "EUD"}, "bad_currency_code", "currency EUD")
        bad(fs, {"sale_id": "s90000003", "photo_id": some_photo.photo_id, "sold_at": t(-2), "license_type": "standard",
                 "amount": "N/A", "currency": "USD"}, "non_numeric_amount", "amount N/A")
        bad(fs, None, "broken_csv_quoting", "a quoted field followed by more text",
            raw_line=f's90000004,{some_photo.photo_id},{cell(t(-2))},"standard"extended,9.99,USD\r\n')
        fs.write({"sale_id": "s90000005", "photo_id": some_photo.photo_id, "sold_at": t(-1), "license_type": "extended",
                  "amount": Decimal("49.00"), "currency": "USD"})
        fs.write({"sale_id": "s90000006", "photo_id": some_photo.photo_id, "sold_at": t(-1), "license_type": "standard",
                  "amount": Decimal("4.99"), "currency": "GBP"})
        bad(fs, {"sale_id": "s90000007", "photo_id": some_photo.photo_id, "sold_at": None, "license_type": "standard",
                 "amount": Decimal("4.99"), "currency": "GBP"}, "missing_required_value", "sold_at is empty")

        # a licenses file without its header row: every line is data, none can be trusted
        fl = m.landing.out / "licenses" / "licenses_0099_noheader.csv"
        fl.parent.mkdir(parents=True, exist_ok=True)
        buf = io.StringIO()
        w = csv.writer(buf)
        headerless = [["l9000001", some_photo.photo_id, "Header Less Ltd", "headerless.example", cell(t(-20)), ""],
                      ["l9000002", some_photo.photo_id, "Header Less Ltd", "headerless.example", cell(t(-19)), cell(t(300))]]
        for n, row in enumerate(headerless, start=1):
            w.writerow(row)
            q.append({"source": "licenses", "file": "licenses/licenses_0099_noheader.csv", "line": n, "kind": "missing_header",
                      "detail": "the file has no header row"})
        fl.write_bytes(buf.getvalue().encode())
        m.landing.files["licenses/licenses_0099_noheader.csv"] = _Written()
        m.landing.counts["licenses"] += len(headerless)

        # not quarantined: duplicate keys (later line wins), extra columns (kept), an empty file
        notes = {"duplicate_keys": [], "extra_columns": [], "empty_files": [], "headerless_files": ["licenses/licenses_0099_noheader.csv"]}
        fd = lf("stock_listings", "stock_listings_0002_dupkey.csv")
        first = {"site": "stockhub.net", "listing_id": "SH-3001", "listing_url": None,
                 "image_url": f"http://stockhub.net:{self.port}/img/pool-00.jpg",
                 "contributor": "contrib_9", "title": "Harbour (first title)", "listed_at": t(-7)}
        fd.write(first)
        fd.write({**first, "title": "Harbour at dusk"})
        notes["duplicate_keys"].append({"source": "stock_listings", "file": fd.rel, "key": ["stockhub.net", "SH-3001"], "lines": [2, 3],
                                        "winner_line": 3, "expect": {"title": "Harbour at dusk"}})
        fe = lf("licenses", "licenses_0002_extra_column.csv", extra_columns=("notes",))
        for n in range(2):
            fe.write({"license_id": f"l800000{n + 1}", "photo_id": some_photo.photo_id, "licensee": "Notes Media",
                      "licensee_domain": "notesmedia.example", "starts_at": t(-50 - n), "ends_at": None,
                      "notes": f"signed by email #{n + 1}"})
        notes["extra_columns"].append({"source": "licenses", "file": fe.rel, "columns": ["notes"], "rows": 2,
                                       "expect": "loaded; notes kept in raw.licenses.extra"})
        for rel in ("settlement_reports/pixsy_2026-41.csv", "settlement_reports/pixsy_2026-43.csv"):
            notes["extra_columns"].append({"source": "settlement_reports", "file": rel, "columns": ["reverses_line_id"],
                                           "expect": "loaded; reverses_line_id kept in raw.settlement_reports.extra"})
        empty = m.landing.out / "region_consents" / "region_consents_0099_empty.csv"
        empty.write_bytes(b"")
        m.landing.files["region_consents/region_consents_0099_empty.csv"] = _Written()
        notes["empty_files"].append("region_consents/region_consents_0099_empty.csv")
        return q, notes


class _Written:
    """A file written directly (not through ``CsvFile``): nothing to close."""

    def close(self) -> None:
        pass

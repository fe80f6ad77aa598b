"""The sample marketplace: deterministic, true to the landing contract, and holding every
planted scenario the other parts of Lightbox are tested on."""
from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from lightbox.landing.contract import SOURCES
from lightbox.landing.validate import RowError, RowValidator


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "_seed.json"
    }


def _rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _current(landing: Path, source: str) -> dict:
    """The current row per key the way the contract defines it (later updated_at, then later
    file, then later line), over the files that are not planted defects."""
    src = SOURCES[source]
    rows = {}
    for path in sorted((landing / source).glob("*.csv")):
        if "_0099_" in path.name or path.stat().st_size == 0:
            continue
        for row in _rows(path):
            key = tuple(row[k] for k in src.key)
            old = rows.get(key)
            if old is None or not src.has_updated_at or datetime.fromisoformat(row["updated_at"]) >= datetime.fromisoformat(old["updated_at"]):
                rows[key] = row
    return rows


def test_same_seed_same_bytes(seeded, tmp_path):
    from lightbox.seed import generate

    generate(tmp_path / "landing", scale="small", seed=7, sites_dir=tmp_path / "sites")
    assert _tree(tmp_path / "landing") == _tree(seeded["landing"])
    assert _tree(tmp_path / "sites") == _tree(seeded["sites"])
    again = json.loads((tmp_path / "landing" / "_seed.json").read_text())
    again["sites_dir"] = seeded["manifest"]["sites_dir"]
    assert again == seeded["manifest"]


def test_every_row_follows_the_contract_except_the_planted_ones(seeded):
    landing = seeded["landing"]
    manifest = seeded["manifest"]
    planted = {(q["file"], q["line"]) for q in manifest["expected"]["quarantine"]}
    notes = manifest["expected"]["landing"]
    extra_ok = {e["file"]: e["columns"] for e in notes["extra_columns"]}
    checked = defaultdict(int)
    for source in SOURCES.values():
        files = sorted((landing / source.name).glob("*.csv"))
        assert files, f"no files for {source.name}"
        for path in files:
            rel = f"{source.name}/{path.name}"
            data = path.read_bytes()
            if rel in notes["empty_files"]:
                assert data == b""
                continue
            if rel in notes["headerless_files"]:
                continue
            assert data.endswith(b"\r\n")
            reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="surrogateescape", newline=""), strict=True)
            header = next(reader)
            assert header == list(source.column_names) + extra_ok.get(rel, []), rel
            validator = RowValidator(source, header)
            line = 1
            while True:
                line = reader.line_num + 1
                try:
                    fields = next(reader)
                except StopIteration:
                    break
                except csv.Error:
                    assert (rel, line) in planted, f"{rel}:{line} is unreadable but not planted"
                    continue
                try:
                    validator.validate(list(fields))
                    ok = True
                except RowError:
                    ok = False
                assert ok != ((rel, line) in planted), f"{rel}:{line} {fields}"
                checked[source.name] += 1
    assert all(checked[name] > 0 for name in SOURCES)
    kinds = {q["kind"] for q in manifest["expected"]["quarantine"]}
    assert {"timestamp_without_offset", "unknown_enum_value", "bad_country_code", "bad_currency_code",
            "missing_required_value", "non_numeric_amount", "broken_csv_quoting", "invalid_utf8", "missing_header"} <= kinds


def test_images_are_real_and_hashed(seeded):
    from PIL import Image

    landing = seeded["landing"]
    photos = _current(landing, "photos")
    library = {i["image_path"]: i for i in seeded["manifest"]["images"]}
    assert len(library) >= 150
    kinds = {i["kind"] for i in library.values()}
    assert {"sharp", "blurred", "overexposed", "underexposed", "lowres", "noisy", "jpeg"} <= kinds
    for info in library.values():
        assert max(info["width"], info["height"]) <= 1024
    checked = 0
    for row in photos.values():
        path = landing / row["image_path"]
        if row["image_path"] not in library:
            continue  # the planted missing / truncated uploads
        assert hashlib.sha256(path.read_bytes()).hexdigest() == row["sha256"]
        if checked < 20:
            with Image.open(path) as img:
                assert img.size == (int(row["width"]), int(row["height"]))
            checked += 1
    # pixels matter: sharp variants are much sharper than blurred ones
    by = {(i["base"], i["kind"]): i for i in library.values()}
    for base in {i["base"] for i in library.values()}:
        assert by[(base, "sharp")]["sharpness"] > 2 * by[(base, "blurred")]["sharpness"], base
        assert by[(base, "overexposed")]["brightness"] > by[(base, "sharp")]["brightness"] > by[(base, "underexposed")]["brightness"]


def test_inspectors_react_to_pixels_and_metadata(seeded):
    acceptance = seeded["manifest"]["expected"]["aiscan"]["acceptance_by_variant"]
    good = sum(acceptance[k]["accepted"] for k in ("sharp", "crop")) / sum(acceptance[k]["decided"] for k in ("sharp", "crop"))
    bad = sum(acceptance[k]["accepted"] for k in ("blurred", "overexposed", "underexposed", "noisy", "jpeg")) / sum(
        acceptance[k]["decided"] for k in ("blurred", "overexposed", "underexposed", "noisy", "jpeg"))
    assert good > bad + 0.25
    landing = seeded["landing"]
    photos = _current(landing, "photos")
    decisions = _rows(landing / "inspections" / "inspections_0001.csv")
    assert {d["decision"] for d in decisions} == {"accepted", "rejected", "changes_required"}
    for d in decisions:
        if d["decision"] == "changes_required":
            p = photos[(d["photo_id"],)]
            assert (p["has_people"] == "true" and p["model_release"] != "true") or (
                p["has_property"] == "true" and p["property_release"] != "true")
    sales = _rows(landing / "sales" / "sales_0001.csv")
    accepted = {d["photo_id"] for d in decisions if d["decision"] == "accepted"}
    assert sales and {s["photo_id"] for s in sales} <= accepted


def test_opt_in_history_and_eligibility(seeded):
    landing = seeded["landing"]
    m = seeded["manifest"]
    users = m["expected"]["users"]
    maria = users["opt_in_later"]["user_id"]
    versions = [r for f in sorted((landing / "users").glob("users_000*.csv")) for r in _rows(f) if r["user_id"] == maria]
    assert [v["auto_licensing"] for v in versions] == ["false", "true"]
    assert datetime.fromisoformat(versions[1]["updated_at"]) == datetime.fromisoformat(users["opt_in_later"]["opt_in_at"])
    jonas = users["opt_in_then_out"]["user_id"]
    versions = [r for f in sorted((landing / "users").glob("users_000*.csv")) for r in _rows(f) if r["user_id"] == jonas]
    assert [v["auto_licensing"] for v in versions] == ["false", "true", "false"]
    current_users = _current(landing, "users")
    assert current_users[(users["deleted_user"]["user_id"],)]["deleted_at"]
    planted = {p["key"]: p for p in m["expected"]["aiscan"]["planted"]}
    for key in ("jonas_before", "jonas_after", "akira_1", "maria_removed", "maria_deleted", "tom_1"):
        assert planted[key]["expect"] == "not_scored"
    for key in ("jonas_between_1", "jonas_after_hand", "maria_after", "lea_people_no_release"):
        assert planted[key]["expect"] == "scored"
    eligible = set(m["expected"]["aiscan"]["eligible"])
    for p in planted.values():
        assert (p["photo_id"] in eligible) == (p["expect"] == "scored"), p
    never = set(users["never_opted_never_submitted"])
    photos = _current(landing, "photos")
    assert not any(photos[(pid,)]["owner_id"] in never for pid in eligible)


def test_consents_replication_expectations(seeded):
    landing = seeded["landing"]
    rep = seeded["manifest"]["expected"]["replication"]
    photos = _current(landing, "photos")
    users = _current(landing, "users")
    for pid in rep["eu"] + rep["cn"]:
        p = photos[(pid,)]
        assert not p["deleted_at"] and not users[(p["owner_id"],)]["deleted_at"]
    assert set(rep["cn"]) <= set(rep["cn_if_enforceable"])
    for item in rep["planted"]:
        assert (item["photo_id"] in rep["eu"]) == item["eu"], item
        assert (item["photo_id"] in rep["cn"]) == item["cn"], item
    events = [r for f in sorted((landing / "region_consents").glob("*.csv")) for r in _rows(f)]
    assert {e["region"] for e in events} == {"cn", "eu"}
    assert any(e["photo_id"] and e["action"] == "revoke" for e in events)
    assert any(not e["photo_id"] and e["action"] == "revoke" for e in events)
    # photo-level events come after the owner's user-level events for that region
    user_level = defaultdict(list)
    for e in events:
        if not e["photo_id"]:
            user_level[(e["user_id"], e["region"])].append(datetime.fromisoformat(e["at"]))
    for e in events:
        if e["photo_id"]:
            assert all(datetime.fromisoformat(e["at"]) > at for at in user_level[(e["user_id"], e["region"])])


def test_settlement_fx_and_timeline(seeded):
    landing = seeded["landing"]
    m = seeded["manifest"]
    as_of = datetime.fromisoformat(m["as_of"])
    settlement = m["expected"]["settlement"]
    kinds = {line["expect"] for line in settlement["lines"]}
    assert {"credit", "unmatched_case", "duplicate_line", "fee_exceeds_gross", "negative_gross_without_reversal",
            "reversal", "missing_fx_rate", "collected_before_case_opened", "unknown_currency"} <= kinds
    assert {line["currency"] for line in settlement["lines"]} >= {"USD", "EUR", "JPY", "KWD"}
    cases = {(c["photo_id"], c["infringer_domain"]) for c in m["expected"]["cases"]}
    for line in settlement["lines"]:
        at = datetime.fromisoformat(line["collected_at"])
        if line["expect"] != "collected_before_case_opened":
            assert as_of < at <= as_of + timedelta(days=25)
        if line["expect"] == "credit":
            assert (line["photo_id"], line["infringer_domain"]) in cases
            assert line["case_ref"] == ""
        if line["currency"] == "JPY":
            assert "." not in line["gross_amount"]
        if line["currency"] == "KWD":
            assert len(line["gross_amount"].split(".")[1]) == 3
    rates = defaultdict(set)
    for f in (landing / "fx_rates").glob("*.csv"):
        for r in _rows(f):
            rates[r["currency"]].add(date.fromisoformat(r["rate_date"]))
            assert Decimal(r["usd_per_unit"]) > 0
    start = datetime.fromisoformat(m["timeline"]["start"]).date()
    end = (as_of + timedelta(days=40)).date()
    days = {start + timedelta(days=n) for n in range((end - start).days + 1)}
    missing = date.fromisoformat(settlement["missing_fx_date"])
    for currency in ("USD", "GBP", "JPY", "KWD"):
        assert rates[currency] == days
    assert rates["EUR"] == days - {missing}
    eur_on_missing = [l for l in settlement["lines"] if l["currency"] == "EUR" and datetime.fromisoformat(l["collected_at"]).date() == missing]
    assert len(eur_on_missing) == 1
    # the reversal names the line it reverses in an extra column
    rows = _rows(landing / "settlement_reports" / "pixsy_2026-43.csv")
    assert rows[0]["reverses_line_id"] == "PX-0002"
    # photos, users and sales all lie before as_of
    for row in _current(landing, "photos").values():
        assert datetime.fromisoformat(row["uploaded_at"]) < as_of
    for row in _rows(landing / "sales" / "sales_0001.csv"):
        assert datetime.fromisoformat(row["sold_at"]) < as_of


def test_quality_plants(seeded):
    landing = seeded["landing"]
    q = seeded["manifest"]["expected"]["quality"]
    originals = {r["sale_id"]: r for r in _rows(landing / "sales" / "sales_0001.csv")}
    again = {r["sale_id"]: r for r in _rows(landing / q["sales_reexport"]["file"])}
    assert q["sales_reexport"]["rows"] == len(again) > 0
    for new, old in q["sales_reexport"]["pairs"]:
        assert new not in originals
        a, b = dict(again[new]), dict(originals[old])
        a.pop("sale_id"), b.pop("sale_id")
        assert a == b
    drift = _rows(landing / q["drift_batch"]["file"])
    assert [r["photo_id"] for r in drift] == q["drift_batch"]["photo_ids"]
    assert all(r["category"] == "ai-generated" and r["keywords"] == "" and int(r["width"]) <= 320 for r in drift)


def test_sites_and_stock_plants(seeded):
    sites = seeded["sites"]
    m = seeded["manifest"]
    exp = m["expected"]
    port = m["sites_port"]

    def local_file(url):
        host_port, _, path = url.removeprefix("http://").partition("/")
        host = host_port.rsplit(":", 1)[0]
        return sites / host / path

    expects = defaultdict(list)
    for item in exp["infringement"]:
        expects[item["expect"]].append(item)
        assert local_file(item["image_url"]).is_file(), item
        page = local_file(item["page_url"]).read_text()
        image_path = item["image_url"].split(f":{port}", 1)[1]
        assert image_path in page or item["image_url"] in page, item
    assert set(expects) == {"case", "licensed", "own_domain", "exclusivity_hold", "robots_blocked"}
    assert {t["transform"] for t in exp["infringement"]} >= {"crop10", "hflip", "letterbox", "reencode_q15", "resize50", "banner"}
    robots = (sites / "www.sunny-travel-blog.co.uk" / "robots.txt").read_text()
    assert "Disallow: /private/" in robots
    assert "/private/" in expects["robots_blocked"][0]["page_url"]
    for url in exp["not_found_urls"]:
        assert not local_file(url).exists()
    feed = json.loads((sites / "pixelstockr.com" / "feed.json").read_text())
    ids = [entry["listing_id"] for entry in feed]
    assert len(ids) != len(set(ids))
    assert any("image_url" not in entry for entry in feed)
    by_expect = {e["expect"]: e for e in exp["exclusivity"]}
    assert by_expect["violation"]["contributor"] == by_expect["violation"]["owner_username"]
    assert by_expect["infringement"]["contributor"] != by_expect["infringement"]["owner_username"]
    seeds = _rows(seeded["landing"] / "crawl_seeds" / "crawl_seeds_0001.csv")
    assert {s["source"] for s in seeds} == {"seed", "photographer_report"}
    report = next(s for s in seeds if s["source"] == "photographer_report")
    assert report["reported_by"] == exp["users"]["reporter"]
    licenses = _current(seeded["landing"], "licenses")
    as_of = datetime.fromisoformat(m["as_of"])
    for item in expects["licensed"]:
        assert any(
            l["photo_id"] == item["photo_id"] and l["licensee_domain"] == "licensed-agency.com"
            and datetime.fromisoformat(l["starts_at"]) <= as_of and (not l["ends_at"] or datetime.fromisoformat(l["ends_at"]) > as_of)
            for l in licenses.values()
        )
    exclusive = set(exp["exclusive_photos"]["photo_ids"])
    for item in exp["infringement"]:
        assert item["photo_id"] in exclusive
    assert m["crawl_resolve"].count("=127.0.0.1") == len(m["hosts"])


def test_variants_encode_to_the_same_bytes_every_time(tmp_path):
    from lightbox.seed.images import VARIANT_KINDS, jpeg_bytes, load_base, make_variant, sample_files

    base = load_base(sample_files()[0])
    for kind in VARIANT_KINDS:
        a = jpeg_bytes(*make_variant(base, kind, "k"))
        b = jpeg_bytes(*make_variant(load_base(sample_files()[0]), kind, "k"))
        assert a == b, kind


def test_image_cache_gives_the_same_library(seeded, tmp_path):
    from lightbox.config import settings
    from lightbox.seed.images import build_library

    cache = settings().home / "cache"
    assert any(cache.glob("seed-images-*/library.json"))  # the seeded run filled it
    library = build_library(tmp_path / "images", cache_dir=cache)
    assert [i.as_dict() for i in library] == seeded["manifest"]["images"]
    built = {p: h for p, h in _tree(seeded["landing"]).items() if p.startswith("images/") and "upload" not in p}
    assert built == {f"images/{p}": h for p, h in _tree(tmp_path / "images").items()}

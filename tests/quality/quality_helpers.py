"""Clean sample data for the quality tests, written straight into raw.* (and the settlement,
licensing and infringement tables), plus the planted problems of the sample marketplace."""
from __future__ import annotations

import hashlib
import itertools
from datetime import date, datetime, timedelta, timezone

AS_OF = datetime(2026, 10, 1, tzinfo=timezone.utc)
_ids = itertools.count(1)


def photo_bytes(n: int) -> bytes:
    """A small real JPEG for clean photo ``n`` (replication copies only bytes that decode as an
    image of the row's sha256)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 12), ((n * 37) % 256, (n * 91) % 256, (n * 53) % 256)).save(out, "JPEG", quality=90)
    return out.getvalue()


def insert(conn, table: str, rows: list[dict], file_id: int = 1, arrived_at: datetime = AS_OF) -> None:
    with conn.cursor() as cur:
        for line, row in enumerate(rows, start=2):
            row = {**row, "_file_id": file_id, "_line": line, "_arrived_at": arrived_at}
            columns = ", ".join(row)
            cur.execute(
                f"insert into {table} ({columns}) values ({', '.join(['%s'] * len(row))})", list(row.values())
            )


def landing_file(conn, source: str, path: str, rows: int) -> int:
    with conn.cursor() as cur:
        cur.execute(
            """insert into raw.landing_files (source, path, sha256, size_bytes, rows_total, rows_loaded, status)
               values (%s, %s, %s, 100, %s, %s, 'loaded') returning file_id""",
            (source, path, hashlib.sha256(f"{path}{next(_ids)}".encode()).hexdigest(), rows, rows),
        )
        return cur.fetchone()[0]


def clean_raw(conn) -> dict:
    """Users, photos (old and recent alike), sales, fx rates without gaps, consents."""
    users = [{"user_id": f"u{n}", "username": f"user{n}", "country": "DE", "joined_at": AS_OF - timedelta(days=400),
              "auto_licensing": True, "default_exclusive": False, "updated_at": AS_OF - timedelta(days=10)}
             for n in range(1, 6)]
    insert(conn, "raw.users", users, landing_file(conn, "users", "users/users_0001.csv", len(users)))
    categories = ["nature", "animals", "travel", "art"]
    photos = []
    for n in range(60):
        photos.append({
            "photo_id": f"p{n:04d}", "owner_id": f"u{n % 5 + 1}",
            "uploaded_at": AS_OF - timedelta(days=120 - 2 * n) + timedelta(hours=n % 7),
            "title": f"photo {n}", "keywords": "sky;tree", "category": categories[n % 4],
            "width": 1024, "height": 768, "submitted_for_licensing": True, "removed_from_licensing": False,
            "exclusive": False, "image_path": f"images/p{n:04d}.jpg", "sha256": hashlib.sha256(photo_bytes(n)).hexdigest(),
            "updated_at": AS_OF - timedelta(days=120 - 2 * n),
        })
    for half in (photos[:30], photos[30:]):
        insert(conn, "raw.photos", half, landing_file(conn, "photos", f"photos/{half[0]['photo_id']}.csv", len(half)))
    sales = [{"sale_id": f"s{n:05d}", "photo_id": f"p{n % 60:04d}", "sold_at": AS_OF - timedelta(days=40 - n, hours=n % 5),
              "license_type": "standard", "amount": "9.99", "currency": ("USD", "EUR", "GBP")[n % 3]} for n in range(40)]
    insert(conn, "raw.sales", sales, landing_file(conn, "sales", "sales/sales_0001.csv", len(sales)))
    fx = []
    day = date(2026, 8, 1)
    while day <= date(2026, 10, 5):
        for currency, rate in (("USD", "1"), ("EUR", "1.08"), ("GBP", "1.27")):
            fx.append({"rate_date": day, "currency": currency, "usd_per_unit": rate})
        day += timedelta(days=1)
    insert(conn, "raw.fx_rates", fx, landing_file(conn, "fx_rates", "fx_rates/fx_rates_2026.csv", len(fx)))
    consents = [{"event_id": "e1", "user_id": "u1", "region": "eu", "photo_id": None, "action": "grant",
                 "at": AS_OF - timedelta(days=300)}]
    insert(conn, "raw.region_consents", consents, landing_file(conn, "region_consents", "region_consents/c.csv", 1))
    return {"users": users, "photos": photos, "sales": sales}


def plant_problems(conn, data: dict) -> None:
    """The sample marketplace's planted problems: a re-exported sales file, a day without an
    EUR rate, a drifted batch of recent photos."""
    again = [{**s, "sale_id": f"s9{n:04d}"} for n, s in enumerate(data["sales"][:4])]
    insert(conn, "raw.sales", again, landing_file(conn, "sales", "sales/sales_0002_reexport.csv", len(again)))
    with conn.cursor() as cur:
        cur.execute("delete from raw.fx_rates where currency = 'EUR' and rate_date = '2026-09-13'")
    drift = [{**data["photos"][0], "photo_id": f"pd{n:02d}", "uploaded_at": AS_OF - timedelta(days=3), "category": "ai-generated",
              "keywords": None, "width": 320, "height": 240} for n in range(12)]
    insert(conn, "raw.photos", drift, landing_file(conn, "photos", "photos/photos_0080_recent.csv", len(drift)))


def clean_settlement(conn) -> int:
    """One case, one settlement transaction balanced in the ledger, credited with the share."""
    with conn.cursor() as cur:
        cur.execute(
            """insert into settlement.transactions (partner, report_id, line_id, kind, case_id, photographer_id, currency,
                   gross_amount, partner_fee, photographer_amount, platform_amount, usd_per_unit, fx_date,
                   gross_usd, fee_usd, photographer_usd, platform_usd, photographer_share, collected_at, posted_at)
               values ('pixsy', 'R1', 'L1', 'settlement', 'c1', 'u1', 'USD', 100, 30, 35, 35, 1, '2026-09-01',
                   100, 30, 35, 35, 0.50, %s, %s) returning txn_id""", (AS_OF, AS_OF))
        txn = cur.fetchone()[0]
        cur.execute(
            """insert into settlement.ledger (txn_id, account, amount, currency, amount_usd, posted_at, source)
               values (%(t)s, 'partner_collections:pixsy', 100, 'USD', 100, %(at)s, 'pixsy/R1/L1'),
                      (%(t)s, 'partner_fees:pixsy', -30, 'USD', -30, %(at)s, 'pixsy/R1/L1'),
                      (%(t)s, 'photographer_payable:u1', -35, 'USD', -35, %(at)s, 'pixsy/R1/L1'),
                      (%(t)s, 'platform_revenue', -35, 'USD', -35, %(at)s, 'pixsy/R1/L1')""", {"t": txn, "at": AS_OF})
        cur.execute(
            """insert into settlement.credits (photographer_id, case_id, amount, currency, amount_usd, credited_at, source,
                   partner, report_id, line_id, txn_id)
               values ('u1', 'c1', 35, 'USD', 35, %s, 'pixsy/R1/L1', 'pixsy', 'R1', 'L1', %s)""", (AS_OF, txn))
    return txn


def results(conn, suite: str | None = None) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(
            "select run_id, suite, severity, success, evaluated, failed, docs_uri, summary from quality.results"
            + (" where suite = %s" if suite else "") + " order by result_id", (suite,) if suite else None)
        return cur.fetchall()

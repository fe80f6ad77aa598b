"""Helpers for the settlement tests: deliver report files the way the ingest does (every
delivery into raw.settlement_reports_history, the later file wins in raw.settlement_reports),
cases, fx rates and holds."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

AS_OF = datetime(2026, 3, 1, tzinfo=timezone.utc)

COLUMNS = (
    "partner", "report_id", "line_id", "case_ref", "photo_id", "infringer_domain",
    "gross_amount", "currency", "partner_fee", "collected_at",
)


def deliver(cur, file_id: int, lines: list[dict], arrived_at: datetime | None = None) -> None:
    """One landing file of settlement lines (dicts with COLUMNS, optional 'extra')."""
    arrived_at = arrived_at or datetime(2026, 2, 1, tzinfo=timezone.utc).replace(microsecond=file_id)
    cols = ", ".join(COLUMNS)
    for n, line in enumerate(lines, start=2):
        values = [line.get(c) for c in COLUMNS] + [json.dumps(line.get("extra") or {}), file_id, n, arrived_at]
        placeholders = ", ".join(["%s"] * len(values))
        cur.execute(
            f"insert into raw.settlement_reports_history ({cols}, extra, _file_id, _line, _arrived_at) "
            f"values ({placeholders})",
            values,
        )
        updates = ", ".join(f"{c} = excluded.{c}" for c in (*COLUMNS[3:], "extra", "_file_id", "_line", "_arrived_at"))
        cur.execute(
            f"insert into raw.settlement_reports ({cols}, extra, _file_id, _line, _arrived_at) values ({placeholders}) "
            f"on conflict (partner, report_id, line_id) do update set {updates} "
            f"where (excluded._file_id, excluded._line) >= (raw.settlement_reports._file_id, raw.settlement_reports._line)",
            values,
        )


def add_case(cur, case_id, photo_id, owner_id, domain, opened_at="2026-01-05T00:00:00Z", status="open"):
    cur.execute(
        "insert into infringement.cases (case_id, photo_id, owner_id, infringer_domain, opened_at, status) "
        "values (%s, %s, %s, %s, %s, %s)",
        (case_id, photo_id, owner_id, domain, opened_at, status),
    )


def add_rate(cur, day, currency, usd_per_unit):
    cur.execute(
        "insert into raw.fx_rates (rate_date, currency, usd_per_unit, _file_id, _line, _arrived_at) "
        "values (%s, %s, %s, 1, 1, now()) on conflict do nothing",
        (day, currency, usd_per_unit),
    )


def add_hold(cur, photo_id):
    cur.execute(
        "insert into exclusivity.violations (photo_id, site, listing_url, distance, detected_at) "
        "values (%s, 'othersite', %s, 2, '2026-01-10T00:00:00Z')",
        (photo_id, f"https://other.example/{photo_id}"),
    )


def line(line_id, gross, currency="USD", fee="0", *, partner="p1", report_id="r1", case_ref=None,
         photo_id=None, domain=None, collected_at="2026-01-20T10:00:00Z", reverses=None, **extra):
    row = {
        "partner": partner, "report_id": report_id, "line_id": line_id, "case_ref": case_ref,
        "photo_id": photo_id, "infringer_domain": domain, "gross_amount": gross, "currency": currency,
        "partner_fee": fee, "collected_at": collected_at,
    }
    if reverses:
        extra["reverses_line_id"] = reverses
    row["extra"] = extra
    return row


@pytest.fixture
def cur(conn):
    with conn.cursor() as c:
        yield c

"""Synthetic partner reports at any scale, written set-based straight into the raw tables:
for the settlement benchmark (benchmarks/settlement.py), the concurrency test and the
quality gates' test. Deterministic in ``lines`` (no
randomness: every attribute is a hash of the line number), with a realistic mix of defects:
unmatched lines, dismissed and held cases, fees above gross, non-positive gross, missing fx
rates, unknown currencies, reversals, re-deliveries and rejected rows."""
from __future__ import annotations

GENERATE = """
insert into infringement.cases (case_id, photo_id, owner_id, infringer_domain, opened_at, status)
select
    'SC' || c, 'SP' || c, 'SU' || (c %% 5000),
    case when c %% 3 = 0 then 'www.' else '' end || 'site' || c || '.example.com',
    timestamptz '2025-12-01' + (c %% 40) * interval '1 day',
    case when c %% 37 = 0 then 'dismissed' when c %% 5 = 0 then 'sent_to_partner' else 'open' end
from generate_series(1, %(cases)s) as c;

insert into exclusivity.violations (photo_id, site, listing_url, distance, detected_at)
select 'SP' || c, 'otherstock', 'https://otherstock.example/' || c, 3, timestamptz '2026-01-01'
from generate_series(101, %(cases)s, 101) as c;

insert into raw.fx_rates (rate_date, currency, usd_per_unit, _file_id, _line, _arrived_at)
select d::date, cur, rate * (1 + extract(doy from d) / 1000.0), 1, 1, timestamptz '2026-01-01'
from generate_series(timestamptz '2026-01-01', timestamptz '2026-03-31', interval '1 day') as d
cross join (values ('EUR', 1.0837), ('JPY', 0.006713), ('KWD', 3.2551), ('CHF', 1.1301), ('GBP', 1.2644)) as r (cur, rate)
where not (cur = 'GBP' and extract(dow from d) = 0);  -- no GBP rate on Sundays: missing_fx_rate
"""

LINES = """
create temp table _synthetic on commit drop as
with numbered as (
    select
        i,
        case when i %% 100 = 0 then i - 1 else i end as k,  -- every 100th line reverses the line before
        (i %% 100 = 0) as is_reversal
    from generate_series(%(first)s::bigint, %(last)s) as i
),
attributes as (
    select
        n.*,
        (array['USD', 'EUR', 'JPY', 'GBP', 'KWD', 'CHF', 'USD'])[n.k %% 7 + 1] as currency,
        (n.k * 2654435761 %% 4294967296) as h,
        1 + (n.k * 40503 %% %(cases)s) as case_no
    from numbered as n
),
amounts as (
    select
        a.*,
        case a.currency when 'JPY' then 0 when 'KWD' then 3 else 2 end as places,
        (a.h %% 500000 + 500) as gross_minor,
        (a.h %% 300) / 1000.0 as fee_rate
    from attributes as a
)
select
    'partner' || (i %% 5) as partner,
    'R' || (i / 1000) as report_id,
    'L' || i as line_id,
    case when k %% 20 < 12 then 'SC' || case_no when k %% 20 = 19 then 'SC-unknown-' || k end as case_ref,
    case when k %% 20 between 12 and 18 then 'SP' || case_no when k %% 20 = 19 then 'SP-unknown' end as photo_id,
    case when k %% 20 between 12 and 18 then 'shop.site' || case_no || '.example.com' end as infringer_domain,
    (case when is_reversal then -1 else 1 end)
        * (case when k %% 997 = 0 then -gross_minor else gross_minor end) / 10::numeric ^ places as gross_amount,
    case when k %% 991 = 0 and not is_reversal then 'XAU' else currency end as currency,
    (case when is_reversal then -1 else 1 end)
        * (case when k %% 499 = 0 then gross_minor * 2 else floor(gross_minor * fee_rate) end) / 10::numeric ^ places
        as partner_fee,
    timestamptz '2026-01-10' + (h %% (80 * 86400)) * interval '1 second' as collected_at,
    case when is_reversal
        then jsonb_build_object('reverses_line_id', 'L' || k, 'reverses_report_id', 'R' || (k / 1000))
        else '{}'::jsonb end as extra
from amounts;

insert into raw.settlement_reports_history
select s.*, %(file_id)s + (substr(s.report_id, 2)::int %% 50), row_number() over (), %(arrived_at)s::timestamptz
from _synthetic as s;

-- 1 line in 200 delivered again in a later file
insert into raw.settlement_reports_history
select s.*, %(file_id)s + 999, row_number() over (), %(arrived_at)s::timestamptz + interval '14 days'
from _synthetic as s
where substr(s.line_id, 2)::int %% 200 = 7;

insert into raw.settlement_reports
select distinct on (partner, report_id, line_id) h.*
from raw.settlement_reports_history as h
inner join _synthetic as s using (partner, report_id, line_id)
order by partner, report_id, line_id, h._file_id desc, h._line desc;

insert into raw.quarantine (source, file, file_sha256, line, reason, payload)
select 'settlement_reports', 'settlement_reports/rejected.csv', 'synthetic', q,
    'gross_amount: "n/a" is not a number', 'partner0,RQ,LQ' || q || ',SC1,,,n/a,USD,0,2026-01-20T00:00:00Z'
from generate_series(%(first)s, greatest(%(last)s / 1000, 1)) as q
where %(first)s = 1;
"""


def generate(cur, lines: int) -> dict:
    """Write ``lines`` synthetic report lines (plus cases, rates, holds, re-deliveries and
    rejected rows) into an empty warehouse, in the caller's transaction."""
    cases = max(lines // 10, 10)
    cur.execute(GENERATE, {"lines": lines, "cases": cases})
    cur.execute(LINES, {"first": 1, "last": lines, "cases": cases, "file_id": 1, "arrived_at": "2026-02-01"})
    for table in ("raw.settlement_reports", "raw.settlement_reports_history", "infringement.cases", "raw.fx_rates"):
        cur.execute(f"analyze {table}")
    return {"lines": lines, "cases": cases}


def add_lines(cur, after: int, lines: int, *, cases: int) -> dict:
    """A later delivery: lines ``after + 1`` to ``after + lines`` (same mix of defects, a
    later file, a later arrival), citing the ``cases`` cases :func:`generate` wrote."""
    cur.execute(LINES, {"first": after + 1, "last": after + lines, "cases": cases, "file_id": 10_000 + after,
                        "arrived_at": "2026-03-01"})
    return {"lines": lines}

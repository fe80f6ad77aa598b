"""Settlement reconciliation, set-based in PostgreSQL: partner report lines → cases →
discrepancies or a double-entry ledger → photographer credits → a summary per report.

Four steps, each one transaction, each idempotent and safe to rerun after a crash at any
point (what ``settlement_reconcile`` runs as tasks):

1. ``match_lines``: match the current lines of ``raw.settlement_reports`` to cases, validate
   them, split them (partner fee, photographer share, platform residue, in their currency and
   USD), and update ``settlement.line_matches`` and ``settlement.discrepancies``. Only the
   lines that are new, delivered again, or whose case, hold or rate changed are evaluated
   (every line on the first run: docs/settlement.md).
2. ``post_ledger``: one ledger transaction per reconcilable line not yet posted (reversals as
   new transactions referencing the reversed one). ``unique (partner, report_id, line_id)``
   on ``settlement.transactions`` makes a second posting impossible.
3. ``credit_photographers``: one credit per posted transaction, ``unique (partner,
   report_id, line_id)`` and ``unique (txn_id)`` on ``settlement.credits``.
4. ``summarise_reports``: ``settlement.report_summaries``, what finance reads.

Every step takes the same advisory lock, so concurrent runs queue; the unique constraints
hold even without it. Times (``posted_at``, ``credited_at``, ``detected_at``) are the run's
``as_of`` (the DAG passes its data interval end), never ``now()``.
"""
from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from lightbox import db
from lightbox.settlement.domains import refresh_registrable_domains, registrable_domain
from lightbox.settlement.money import known_currencies, minor_units

log = logging.getLogger(__name__)

LOCK_KEY = "lightbox.settlement"

# Discrepancy kinds (stable names: finance filters on them).
BLOCKING_KINDS = (
    "unmatched_case",
    "photo_mismatch",
    "case_not_payable",
    "collected_before_case_opened",
    "photographer_unknown",
    "unknown_currency",
    "missing_fx_rate",
    "amount_precision_exceeds_currency",
    "fee_exceeds_gross",
    "invalid_fee_sign",
    "non_positive_gross_without_reversal",
    "duplicate_line",
    "reversal_target_not_found",
    "reversal_target_not_reconciled",
    "reversal_mismatch",
    "duplicate_reversal",
    "amount_exceeds_ceiling",
    "case_domain_mismatch",
)
# Listed for finance, but the line itself was (or will be) credited once.
NOTE_KINDS = ("duplicate_line", "changed_after_posting")
REJECTED_KIND = "rejected_at_ingest"
KINDS = tuple(dict.fromkeys(BLOCKING_KINDS + NOTE_KINDS + (REJECTED_KIND,)))

# Case statuses that must not be paid out (an exclusivity hold is checked separately).
NOT_PAYABLE_STATUSES = ("dismissed", "paused")


def _lock(cur, lock: bool) -> None:
    if lock:
        cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (LOCK_KEY,))


def _share(share) -> Decimal:
    if share is None:
        from lightbox.config import settings

        return settings().photographer_share
    return Decimal(str(share))


# --------------------------------------------------------------------------- match_lines

_EVALUATE = """
insert into settlement.line_matches (
    partner, report_id, line_id, source_file_id, source_line, case_ref, line_photo_id, infringer_domain, reverses_line_id,
    reverses_report_id, deliveries, original_report_id, original_line_id, is_reversal, case_id,
    photographer_id, photo_id, match_method, case_status, opened_at, on_hold, currency, minor_units,
    gross_amount, partner_fee, collected_at, fx_date, usd_per_unit, has_rates, is_posted, posted_gross,
    posted_fee, posted_currency, net_amount, photographer_amount, platform_amount, gross_usd, fee_usd,
    photographer_usd, platform_usd,
    kinds, photographer_share, matched_at
)
with lines as (
    select
        r.partner, r.report_id, r.line_id,
        nullif(btrim(r.case_ref), '') as case_ref,
        nullif(btrim(r.photo_id), '') as line_photo_id,
        lower(btrim(r.infringer_domain)) as infringer_domain,
        upper(btrim(r.currency)) as currency,
        r.gross_amount, r.partner_fee, r.collected_at, r._arrived_at, r._file_id, r._line,
        nullif(btrim(r.extra ->> 'reverses_line_id'), '') as reverses_line_id,
        nullif(btrim(r.extra ->> 'reverses_report_id'), '') as reverses_report_id
    from raw.settlement_reports as r
    /*ONLY r*/
),
deliveries as /*MATERIALIZED*/ (
    select r.partner, r.report_id, r.line_id, count(*) as deliveries, min(r._arrived_at) as first_arrived_at
    from raw.settlement_reports_history as r
    /*ONLY r*/
    group by r.partner, r.report_id, r.line_id
),
keyed as (
    select
        l.*,
        coalesce(rd.registrable, l.infringer_domain) as registrable,
        coalesce(d.deliveries, 1) as deliveries,
        coalesce(d.first_arrived_at, l._arrived_at) as first_arrived_at
    from lines as l
    left join deliveries as d using (partner, report_id, line_id)
    left join settlement.registrable_domains as rd on rd.domain = l.infringer_domain
),
fingerprinted as (
    -- the same line (same content) delivered again under another key: the first wins
    select
        k.*,
        first_value(k.report_id) over w as original_report_id,
        first_value(k.line_id) over w as original_line_id
    from keyed as k
    window w as (
        partition by k.partner, k.case_ref, k.line_photo_id, k.infringer_domain, k.currency,
            k.gross_amount, k.partner_fee, k.collected_at, k.reverses_line_id
        order by k.first_arrived_at, k.report_id, k.line_id
    )
),
rated_currencies as (
    select distinct currency from raw.fx_rates
),
case_keys as (
    select
        c.case_id, c.photo_id, c.owner_id, c.status, c.opened_at,
        coalesce(rd.registrable, lower(btrim(c.infringer_domain))) as registrable
    from infringement.cases as c
    left join settlement.registrable_domains as rd on rd.domain = lower(btrim(c.infringer_domain))
),
-- by case_ref first; failing that, by photo and registrable domain (at most one per line)
best as /*MATERIALIZED*/ (
    select
        k.partner, k.report_id, k.line_id, c.case_id, c.photo_id, c.owner_id, c.status, c.opened_at,
        'case_ref' as match_method, c.registrable as case_registrable
    from keyed as k
    inner join case_keys as c on c.case_id = k.case_ref
    where k.reverses_line_id is null
    union all
    (
        select distinct on (k.partner, k.report_id, k.line_id)
            k.partner, k.report_id, k.line_id, c.case_id, c.photo_id, c.owner_id, c.status, c.opened_at,
            'photo_domain' as match_method, c.registrable as case_registrable
        from keyed as k
        inner join case_keys as c on c.photo_id = k.line_photo_id and c.registrable = k.registrable
        where k.reverses_line_id is null
          and not exists (select 1 from infringement.cases as x where x.case_id = k.case_ref)
        order by k.partner, k.report_id, k.line_id, (c.status in ('dismissed', 'paused')), c.opened_at, c.case_id
    )
),
joined as (
    select
        f.partner, f.report_id, f.line_id, f._file_id, f._line, f.case_ref, f.line_photo_id, f.infringer_domain,
        nullif(f.registrable, '') as registrable, b.case_registrable,
        f.reverses_line_id, f.reverses_report_id, f.deliveries,
        f.original_report_id, f.original_line_id,
        (f.reverses_line_id is not null) as is_reversal,
        b.case_id, b.owner_id as photographer_id, b.photo_id, b.match_method,
        b.status as case_status, b.opened_at, (h.photo_id is not null) as on_hold,
        f.currency, cur.minor_units, f.gross_amount, f.partner_fee, f.collected_at,
        (f.collected_at at time zone 'UTC')::date as fx_date,
        case when f.currency = 'USD' then 1::numeric else fx.usd_per_unit end as usd_per_unit,
        (f.currency = 'USD' or rc.currency is not null) as has_rates,
        (t.txn_id is not null) as is_posted,
        t.gross_amount as posted_gross, t.partner_fee as posted_fee, t.currency as posted_currency
    from fingerprinted as f
    left join best as b using (partner, report_id, line_id)
    left join exclusivity.holds as h on h.photo_id = b.photo_id
    left join settlement.currencies as cur on cur.currency = f.currency
    left join rated_currencies as rc on rc.currency = f.currency
    left join raw.fx_rates as fx
        on fx.currency = f.currency and fx.rate_date = (f.collected_at at time zone 'UTC')::date
    left join settlement.transactions as t
        on t.partner = f.partner and t.report_id = f.report_id and t.line_id = f.line_id
),
-- "offset 0" keeps the share a computed column: flattened, the inlined rounding expression
-- would be copied into every expression that uses it, and again into their USD roundings.
amounts as (
    select j.*, a.photographer_amount
    from joined as j
    cross join lateral (
        select settlement.round_half_even((j.gross_amount - j.partner_fee) * %(share)s::numeric, j.minor_units)
            as photographer_amount
        offset 0
    ) as a
),
usd as (
    select
        m.*,
        m.gross_amount - m.partner_fee as net_amount,
        m.gross_amount - m.partner_fee - m.photographer_amount as platform_amount,
        settlement.round_half_even(m.gross_amount * m.usd_per_unit, 2) as gross_usd,
        settlement.round_half_even(m.partner_fee * m.usd_per_unit, 2) as fee_usd,
        settlement.round_half_even(m.photographer_amount * m.usd_per_unit, 2) as photographer_usd
    from amounts as m
),
u as (
    select x.*, x.gross_usd - x.fee_usd - x.photographer_usd as platform_usd
    from usd as x
)
select
    partner, report_id, line_id, _file_id, _line, case_ref, line_photo_id, infringer_domain, reverses_line_id,
    reverses_report_id, deliveries, original_report_id, original_line_id, is_reversal, case_id,
    photographer_id, photo_id, match_method, case_status, opened_at, on_hold, currency, minor_units,
    gross_amount, partner_fee, collected_at, fx_date, usd_per_unit, has_rates, is_posted, posted_gross,
    posted_fee, posted_currency, net_amount, photographer_amount, platform_amount, gross_usd, fee_usd,
    photographer_usd, platform_usd,
    array_remove(array[
        case when not u.is_reversal and u.case_id is null then 'unmatched_case' end,
        case when u.line_photo_id is not null and u.photo_id is not null and u.line_photo_id <> u.photo_id
            then 'photo_mismatch' end,
        -- a case_ref naming a case on another site: someone else's case, never credited on trust
        case when u.match_method = 'case_ref' and u.registrable is not null
            and u.registrable is distinct from u.case_registrable then 'case_domain_mismatch' end,
        case when u.case_status in ('dismissed', 'paused') or u.on_hold then 'case_not_payable' end,
        case when u.collected_at < u.opened_at then 'collected_before_case_opened' end,
        case when u.case_id is not null and u.photographer_id is null then 'photographer_unknown' end,
        -- unknown: not an ISO 4217 code, or a currency raw.fx_rates has never priced;
        -- missing: priced, but not on the collection date (never guessed from another day)
        case when u.minor_units is null or not u.has_rates then 'unknown_currency' end,
        case when u.minor_units is not null and u.has_rates and u.usd_per_unit is null then 'missing_fx_rate' end,
        case when u.gross_amount <> round(u.gross_amount, u.minor_units)
            or u.partner_fee <> round(u.partner_fee, u.minor_units)
            then 'amount_precision_exceeds_currency' end,
        case when abs(u.partner_fee) > abs(u.gross_amount) then 'fee_exceeds_gross' end,
        case when abs(u.gross_usd) > %(ceiling)s::numeric or abs(u.fee_usd) > %(ceiling)s::numeric
            then 'amount_exceeds_ceiling' end,
        case when (not u.is_reversal and u.partner_fee < 0) or (u.is_reversal and u.partner_fee > 0)
            then 'invalid_fee_sign' end,
        case when not u.is_reversal and u.gross_amount <= 0 then 'non_positive_gross_without_reversal' end,
        case when u.is_reversal and u.gross_amount >= 0 then 'reversal_mismatch' end,
        case when (u.original_report_id, u.original_line_id) <> (u.report_id, u.line_id)
            then 'duplicate_line' end
    ], null),
    %(share)s::numeric,
    %(as_of)s
from u
"""

# Reversal lines: find the line each reverses (same partner; same report unless
# extra->>'reverses_report_id' names another, or the line id is unique to the partner), and
# take its case and photographer.
_RESOLVE_REVERSALS = """
with targets as (
    select distinct on (r.partner, r.report_id, r.line_id)
        r.partner, r.report_id, r.line_id,
        o.report_id as target_report_id, o.line_id as target_line_id,
        count(*) over (partition by r.partner, r.report_id, r.line_id) as candidates,
        (o.report_id = r.report_id) as same_report
    from settlement.line_matches as r
    inner join settlement.line_matches as o
        on o.partner = r.partner and o.line_id = r.reverses_line_id
        and (r.reverses_report_id is null or o.report_id = r.reverses_report_id)
    where r.is_reversal /*AND r*/
    order by r.partner, r.report_id, r.line_id, (o.report_id = r.report_id) desc, o.report_id
),
resolved as (
    select
        t.partner, t.report_id, t.line_id, t.target_report_id, t.target_line_id,
        o.is_reversal as target_is_reversal,
        (o.is_posted or o.kinds = '{}') as target_reconciled,
        coalesce(tx.case_id, o.case_id) as case_id,
        coalesce(tx.photographer_id, o.photographer_id) as photographer_id,
        o.photo_id,
        coalesce(tx.currency, o.currency) as target_currency,
        coalesce(tx.gross_amount, o.gross_amount) as target_gross,
        exists (
            select 1 from settlement.transactions as rv
            where rv.reverses_txn_id = tx.txn_id
              and (rv.partner, rv.report_id, rv.line_id) <> (t.partner, t.report_id, t.line_id)
        ) as already_reversed,
        row_number() over (
            partition by o.partner, o.report_id, o.line_id order by t.report_id, t.line_id
        ) as reversal_no
    from targets as t
    inner join settlement.line_matches as o
        on o.partner = t.partner and o.report_id = t.target_report_id and o.line_id = t.target_line_id
    left join settlement.transactions as tx
        on tx.partner = o.partner and tx.report_id = o.report_id and tx.line_id = o.line_id
    where t.candidates = 1 or t.same_report
)
update settlement.line_matches as e
set
    target_report_id = r.target_report_id,
    target_line_id = r.target_line_id,
    case_id = r.case_id,
    photographer_id = r.photographer_id,
    photo_id = r.photo_id,
    match_method = 'reversal',
    kinds = array(select distinct k from unnest(e.kinds || array_remove(array[
        case when r.target_is_reversal then 'reversal_target_not_found' end,
        case when not r.target_is_reversal and not r.target_reconciled then 'reversal_target_not_reconciled' end,
        case when r.target_currency <> e.currency or -e.gross_amount > r.target_gross then 'reversal_mismatch' end,
        case when r.already_reversed or r.reversal_no > 1 then 'duplicate_reversal' end,
        case when r.target_reconciled and r.case_id is not null and r.photographer_id is null
            then 'photographer_unknown' end
    ], null)) as k order by k)
from resolved as r
where e.partner = r.partner and e.report_id = r.report_id and e.line_id = r.line_id
"""

_UNRESOLVED_REVERSALS = """
update settlement.line_matches
set kinds = kinds || array['reversal_target_not_found']
where is_reversal and target_report_id is null /*AND line_matches*/
"""


_DISCREPANCIES = """
create temp table _disc on commit drop as
-- lines that cannot be credited (not posted), one row per kind
select distinct
    e.partner, e.report_id, e.line_id, k.kind, ''::text as source_ref, true as is_blocking,
    case k.kind
        when 'unmatched_case' then format(
            'no case %%s and no case for photo %%s on domain %%s',
            coalesce(quote_literal(e.case_ref), '(no case_ref)'), coalesce(e.line_photo_id, '(none)'),
            coalesce(e.infringer_domain, '(none)'))
        when 'photo_mismatch' then format(
            'line is for photo %%s but case %%s is for photo %%s', e.line_photo_id, e.case_id, e.photo_id)
        when 'case_domain_mismatch' then format(
            'line is for domain %%s but case %%s is against another site', e.infringer_domain, e.case_id)
        when 'amount_exceeds_ceiling' then format(
            'gross %%s / fee %%s %%s is beyond the ceiling of %%s USD per line (LIGHTBOX_SETTLEMENT_MAX_USD)',
            e.gross_amount, e.partner_fee, e.currency, %(ceiling)s::numeric)
        when 'case_not_payable' then format(
            'case %%s is %%s%%s', e.case_id, e.case_status,
            case when e.on_hold then ' and its photo is on exclusivity hold' else '' end)
        when 'collected_before_case_opened' then format(
            'collected at %%s, case %%s opened at %%s', e.collected_at, e.case_id, e.opened_at)
        when 'photographer_unknown' then format('case %%s has no owner', e.case_id)
        when 'unknown_currency' then format(
            case when e.minor_units is null then 'currency %%s is not an ISO 4217 currency'
                else 'currency %%s has no rate in raw.fx_rates on any date' end, e.currency)
        when 'missing_fx_rate' then format('no %%s rate in raw.fx_rates for %%s', e.currency, e.fx_date)
        when 'amount_precision_exceeds_currency' then format(
            'gross %%s / fee %%s have more than %%s decimals for %%s',
            e.gross_amount, e.partner_fee, e.minor_units, e.currency)
        when 'fee_exceeds_gross' then format('fee %%s exceeds gross %%s', e.partner_fee, e.gross_amount)
        when 'invalid_fee_sign' then format('fee %%s has the wrong sign for a %%s line', e.partner_fee,
            case when e.is_reversal then 'reversal' else 'settlement' end)
        when 'non_positive_gross_without_reversal' then format(
            'gross %%s is not positive and the line reverses nothing', e.gross_amount)
        when 'duplicate_line' then format(
            'same line as %%s/%%s (delivered earlier)', e.original_report_id, e.original_line_id)
        when 'reversal_target_not_found' then format(
            'reverses line %%s%%s: not found, ambiguous or itself a reversal', e.reverses_line_id,
            coalesce(' of report ' || e.reverses_report_id, ''))
        when 'reversal_target_not_reconciled' then format(
            'reversed line %%s/%%s is not credited', e.target_report_id, e.target_line_id)
        when 'reversal_mismatch' then format(
            'reversal of %%s %%s does not fit line %%s/%%s (negative gross, same currency, at most the original)',
            e.gross_amount, e.currency, coalesce(e.target_report_id, '?'), coalesce(e.target_line_id, e.reverses_line_id))
        when 'duplicate_reversal' then format(
            'line %%s/%%s is already reversed by another line', e.target_report_id, e.target_line_id)
        else k.kind
    end as detail,
    e.case_id, e.gross_amount as amount, e.currency, e.gross_usd as amount_usd
from settlement.line_matches as e
cross join lateral unnest(e.kinds) as k (kind)
where not e.is_posted /*AND e*/
union all
-- every delivery of a line after its first: credited once, listed for finance
select
    h.partner, h.report_id, h.line_id, 'duplicate_line', format('file:%%s:line:%%s', h._file_id, h._line), false,
    format('line delivered again in file %%s line %%s at %%s%%s', h._file_id, h._line, h._arrived_at,
        case when (h.gross_amount, h.partner_fee, h.currency) is distinct from (e.gross_amount, e.partner_fee, e.currency)
            then format(' with other values (gross %%s fee %%s %%s)', h.gross_amount, h.partner_fee, h.currency)
            else '' end),
    e.case_id, h.gross_amount, h.currency, null::numeric
from (
    select
        hh.*,
        row_number() over (
            partition by hh.partner, hh.report_id, hh.line_id order by hh._arrived_at, hh._file_id, hh._line
        ) as delivery_no
    from raw.settlement_reports_history as hh
    inner join settlement.line_matches as m
        on m.partner = hh.partner and m.report_id = hh.report_id and m.line_id = hh.line_id
    where m.deliveries > 1 /*AND m*/
) as h
inner join settlement.line_matches as e on e.partner = h.partner and e.report_id = h.report_id and e.line_id = h.line_id
where h.delivery_no > 1
union all
-- a posted line whose current version differs from what was posted
select
    e.partner, e.report_id, e.line_id, 'changed_after_posting', '', false,
    format('posted as gross %%s fee %%s %%s, now reported as gross %%s fee %%s %%s: post a reversal',
        e.posted_gross, e.posted_fee, e.posted_currency, e.gross_amount, e.partner_fee, e.currency),
    e.case_id, e.gross_amount, e.currency, e.gross_usd
from settlement.line_matches as e
where e.is_posted /*AND e*/
  and (e.gross_amount, e.partner_fee, e.currency) is distinct from (e.posted_gross, e.posted_fee, e.posted_currency)
union all
-- rows the ingest rejected: every partner line is credited or listed
select
    q.partner, q.report_id, q.line_id, 'rejected_at_ingest', 'quarantine:' || q.quarantine_id, true,
    format('%%s line %%s: %%s', q.file, q.line, q.reason), null, null, null, null
from settlement.rejected_lines as q
/*ONLY q*/
"""

_UPSERT_DISCREPANCIES = """
insert into settlement.discrepancies as d (
    partner, report_id, line_id, kind, detail, source_ref, is_blocking, case_id, amount, currency,
    amount_usd, detected_at
)
select
    partner, report_id, line_id, kind, detail, source_ref, is_blocking, case_id, amount, currency,
    amount_usd, %(as_of)s
from _disc
on conflict (partner, report_id, line_id, kind, source_ref) do update
set detail = excluded.detail, is_blocking = excluded.is_blocking, case_id = excluded.case_id,
    amount = excluded.amount, currency = excluded.currency, amount_usd = excluded.amount_usd
where (d.detail, d.is_blocking, d.case_id, d.amount, d.currency, d.amount_usd)
    is distinct from (excluded.detail, excluded.is_blocking, excluded.case_id, excluded.amount,
        excluded.currency, excluded.amount_usd)
"""

_DELETE_RESOLVED_DISCREPANCIES = """
delete from settlement.discrepancies as d
where true /*AND d*/ and not exists (
    select 1 from _disc as x
    where x.partner = d.partner and x.report_id = d.report_id and x.line_id = d.line_id
      and x.kind = d.kind and x.source_ref = d.source_ref
)
"""


def refresh_currencies(cur, *, scoped: bool = False) -> int:
    """Minor units (from babel) of every currency the reports use that is a known code
    (``scoped``: of the lines in temp table _keys)."""
    cur.execute(_scoped(
        """
        select distinct upper(btrim(currency)) from raw.settlement_reports as r
        where not exists (select 1 from settlement.currencies as c where c.currency = upper(btrim(r.currency)))
        /*AND r*/
        """, scoped))
    rows = []
    for (code,) in cur.fetchall():
        if code and code in known_currencies():
            rows.append((code, minor_units(code)))
    for row in rows:
        cur.execute("insert into settlement.currencies values (%s, %s) on conflict do nothing", row)
    return len(rows)


def _header_of(path: Path) -> list[str] | None:
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as fh:
            header = next(csv.reader(fh), None)
    except OSError:
        return None
    return [h.strip().lower().lstrip("\ufeff") for h in header] if header else None


def refresh_rejected_lines(cur, landing: Path | None = None) -> int:
    """Key every quarantined settlement row by (partner, report_id, line_id) parsed from its
    payload (with its file's header when the landing file is still there, else the contract's
    column order); an unreadable key falls back to the file and line."""
    from lightbox.landing.contract import SOURCES

    cur.execute(
        """
        select q.quarantine_id, q.file, q.line, q.reason, q.payload
        from raw.quarantine as q
        where q.source = 'settlement_reports'
          and not exists (select 1 from settlement.rejected_lines as r where r.quarantine_id = q.quarantine_id)
        """
    )
    rows = cur.fetchall()
    if not rows:
        return 0
    if landing is None:
        from lightbox.config import settings

        landing = settings().landing
    contract_order = list(SOURCES["settlement_reports"].column_names)
    headers: dict[str, list[str] | None] = {}
    keyed = []
    for quarantine_id, file, line, reason, payload in rows:
        if file not in headers:
            path = Path(file)
            headers[file] = _header_of(path if path.is_absolute() else landing / path)
        header = headers[file] or contract_order
        try:
            fields = next(csv.reader(io.StringIO(payload or "")), [])
        except csv.Error:
            fields = []
        values = dict(zip(header, (f.strip() for f in fields)))
        partner = values.get("partner") or "(unknown partner)"
        report_id = values.get("report_id") or f"(file {file})"
        line_id = values.get("line_id") or f"(line {line})"
        keyed.append((quarantine_id, partner, report_id, line_id, reason, file, line))
    for row in keyed:
        cur.execute(
            "insert into settlement.rejected_lines values (%s, %s, %s, %s, %s, %s, %s) on conflict do nothing", row
        )
    return len(keyed)


_SCOPE = re.compile(r"/\*(ONLY|AND) (\w+)\*/")


def _scoped(sql: str, scoped: bool) -> str:
    """The statement over every line, or (scoped) over the lines in temp table ``_keys``."""
    def scope(m: re.Match) -> str:
        if not scoped:
            return ""
        word = "where" if m.group(1) == "ONLY" else "and"
        alias = m.group(2)
        return (f"{word} ({alias}.partner, {alias}.report_id, {alias}.line_id) in "
                "(select partner, report_id, line_id from _keys)")
    # few lines: computed once, not again for each line the planner expects to be alone
    return _SCOPE.sub(scope, sql).replace("/*MATERIALIZED*/", "materialized" if scoped else "")


# One hash per input a line's evaluation reads besides the line itself: cases, holds, rates.
_INPUTS = """
create temp table _inputs on commit drop as
select 'case'::text as kind, c.case_id as key,
    hashtextextended(row(c.photo_id, c.owner_id, lower(btrim(c.infringer_domain)), c.opened_at, c.status)::text, 0)
        as hash
from infringement.cases as c
union all
select 'hold', h.photo_id, 0 from (select distinct photo_id from exclusivity.holds) as h
union all
select 'fx', f.currency || '/' || f.rate_date, hashtextextended(f.usd_per_unit::text, 0)
from raw.fx_rates as f;

create temp table _changed_inputs on commit drop as
select coalesce(i.kind, s.kind) as kind, coalesce(i.key, s.key) as key
from _inputs as i
full join settlement.input_state as s on s.kind = i.kind and s.key = i.key
where i.hash is distinct from s.hash;

delete from settlement.input_state as s using _changed_inputs as c where s.kind = c.kind and s.key = c.key;
insert into settlement.input_state select i.* from _inputs as i inner join _changed_inputs as c using (kind, key);
"""

# The lines to re-evaluate: a new, redelivered or vanished line; the lines a changed case,
# hold or rate touches; then the lines that share a line's content (the first delivery of a
# content is the original, the rest duplicates); then every reversal of one of those lines
# and every other reversal of the same target (they are ranked together).
_KEYS = """
create temp table _keys (
    partner text, report_id text, line_id text, primary key (partner, report_id, line_id)
) on commit drop;

insert into _keys
select distinct h.partner, h.report_id, h.line_id
from _new_files as f
inner join raw.settlement_reports_history as h on h._file_id = f.file_id;

insert into _keys
select m.partner, m.report_id, m.line_id
from _changed_inputs as c
inner join settlement.line_matches as m on c.kind = 'case' and (m.case_ref = c.key or m.case_id = c.key)
union
select m.partner, m.report_id, m.line_id
from _changed_inputs as c
inner join infringement.cases as ic on c.kind = 'case' and ic.case_id = c.key
inner join settlement.line_matches as m on m.line_photo_id = ic.photo_id
union
select m.partner, m.report_id, m.line_id
from _changed_inputs as c inner join settlement.line_matches as m on c.kind = 'hold' and m.photo_id = c.key
union
select m.partner, m.report_id, m.line_id
from _changed_inputs as c
inner join settlement.line_matches as m
    on c.kind = 'fx' and m.currency = split_part(c.key, '/', 1)
    and (m.fx_date = split_part(c.key, '/', 2)::date or not m.has_rates)
on conflict do nothing;

insert into _keys
with contents as (
    select m.partner, m.case_ref, m.line_photo_id, m.infringer_domain, m.currency, m.gross_amount,
        m.partner_fee, m.collected_at, m.reverses_line_id
    from settlement.line_matches as m inner join _keys using (partner, report_id, line_id)
    union
    select r.partner, nullif(btrim(r.case_ref), ''), nullif(btrim(r.photo_id), ''), lower(btrim(r.infringer_domain)),
        upper(btrim(r.currency)), r.gross_amount, r.partner_fee, r.collected_at,
        nullif(btrim(r.extra ->> 'reverses_line_id'), '')
    from raw.settlement_reports as r inner join _keys using (partner, report_id, line_id)
)
select m.partner, m.report_id, m.line_id
from contents as c
inner join settlement.line_matches as m
    on m.partner = c.partner and m.gross_amount = c.gross_amount and m.collected_at = c.collected_at
    and (m.case_ref, m.line_photo_id, m.infringer_domain, m.currency, m.partner_fee, m.reverses_line_id)
        is not distinct from (c.case_ref, c.line_photo_id, c.infringer_domain, c.currency, c.partner_fee,
            c.reverses_line_id)
on conflict do nothing;

insert into _keys
with targets as (
    select partner, line_id as target from _keys
    union
    select m.partner, m.reverses_line_id
    from settlement.line_matches as m inner join _keys using (partner, report_id, line_id)
    where m.reverses_line_id is not null
    union
    select r.partner, nullif(btrim(r.extra ->> 'reverses_line_id'), '')
    from raw.settlement_reports as r inner join _keys using (partner, report_id, line_id)
    where nullif(btrim(r.extra ->> 'reverses_line_id'), '') is not null
)
select m.partner, m.report_id, m.line_id
from targets as t
inner join settlement.line_matches as m on m.partner = t.partner and m.reverses_line_id = t.target
on conflict do nothing;

-- ingest rejections not yet listed
insert into _keys
select distinct q.partner, q.report_id, q.line_id
from settlement.rejected_lines as q
where not exists (
    select 1 from settlement.discrepancies as d
    where d.partner = q.partner and d.report_id = q.report_id and d.line_id = q.line_id
      and d.kind = 'rejected_at_ingest' and d.source_ref = 'quarantine:' || q.quarantine_id
)
on conflict do nothing;

analyze _keys;
"""

# Landing files not evaluated yet: the distinct file ids of the history (read off its index,
# one probe per file) that settlement.evaluated_files does not list.
_NEW_FILES = """
create temp table _new_files on commit drop as
with recursive files as (
    select min(_file_id) as file_id from raw.settlement_reports_history
    union all
    select (select min(h._file_id) from raw.settlement_reports_history as h where h._file_id > f.file_id)
    from files as f
    where f.file_id is not null
)
select f.file_id from files as f
where f.file_id is not null
  and not exists (select 1 from settlement.evaluated_files as e where e.file_id = f.file_id)
"""

_QUEUE_ALL = """
insert into settlement.summary_queue (partner, report_id)
select partner, report_id from settlement.line_matches
union select partner, report_id from settlement.rejected_lines
union select partner, report_id from settlement.credits
union select partner, report_id from settlement.report_summaries
on conflict do nothing
"""

_TO_POST = """
delete from settlement.lines_to_post as m where true /*AND m*/;
insert into settlement.lines_to_post
select m.partner, m.report_id, m.line_id from settlement.line_matches as m
where m.is_reconcilable /*AND m*/
"""

_QUEUE_KEYS = """
insert into settlement.summary_queue (partner, report_id)
select distinct partner, report_id from _keys
on conflict do nothing
"""


def _refresh_domains_of_keys(cur) -> int:
    """settlement.registrable_domains for the domains of the lines in _keys and of the changed
    cases (what refresh_registrable_domains does for every line and case)."""
    cur.execute(
        """
        select distinct d.domain from (
            select lower(btrim(r.infringer_domain)) as domain
            from raw.settlement_reports as r inner join _keys using (partner, report_id, line_id)
            union
            select lower(btrim(c.infringer_domain))
            from infringement.cases as c inner join _changed_inputs as x on x.kind = 'case' and x.key = c.case_id
        ) as d
        where d.domain is not null and d.domain <> ''
          and not exists (select 1 from settlement.registrable_domains as r where r.domain = d.domain)
        """
    )
    rows = [(domain, registrable_domain(domain)) for (domain,) in cur.fetchall()]
    for row in rows:
        cur.execute("insert into settlement.registrable_domains (domain, registrable) values (%s, %s) "
                    "on conflict do nothing", row)
    return len(rows)


@contextmanager
def _without_secondary_indexes(cur, table: str):
    """Drop ``table``'s indexes other than its primary key for the block, then build them
    again from their own definitions (the schema file stays the one place they are written)."""
    schema, name = table.split(".")
    cur.execute(
        "select i.indexname, i.indexdef from pg_indexes as i "
        "where i.schemaname = %s and i.tablename = %s and i.indexname <> %s",
        (schema, name, f"{name}_pkey"),
    )
    indexes = cur.fetchall()
    for index, _ in indexes:
        cur.execute(f'drop index {schema}."{index}"')
    yield
    for _, definition in indexes:
        cur.execute(definition)


def _version(params: dict) -> str:
    """What every line's evaluation depends on besides its inputs: the statements, the share,
    the ceiling. When it changes, every line is evaluated again."""
    text = "\0".join((_EVALUATE, _RESOLVE_REVERSALS, _UNRESOLVED_REVERSALS, _DISCREPANCIES,
                      str(params["share"]), str(params["ceiling"])))
    return hashlib.sha256(text.encode()).hexdigest()


def _ceiling(ceiling) -> Decimal:
    if ceiling is None:
        from lightbox.config import settings

        return settings().settlement_max_usd
    return Decimal(str(ceiling))


def match_lines(as_of: datetime, *, share=None, url: str | None = None, landing: Path | None = None,
                lock: bool = True, full: bool = False, ceiling=None) -> dict:
    """Evaluate the report lines that are new or changed, or whose case, hold or rate changed
    (every line on the first run, after a crash, when the share, the ceiling or this code
    changed, or with ``full``); update line_matches and the discrepancies of those lines."""
    params = {"as_of": as_of, "share": _share(share), "ceiling": _ceiling(ceiling)}
    version = _version(params)
    with db.transaction(url) as conn, conn.cursor() as cur:
        # one pass over every line: sorts and hashes in memory rather than spilled to disk
        cur.execute("set local work_mem = '512MB'")
        cur.execute("set temp_buffers = '512MB'")  # _disc, before its first use
        _lock(cur, lock)
        rejected = refresh_rejected_lines(cur, landing)
        cur.execute(_INPUTS)
        cur.execute(
            "select (select version from settlement.match_state), exists (select 1 from settlement.line_matches)"
        )
        stored, evaluated_before = cur.fetchone()
        incremental = not full and evaluated_before and stored == version
        if not incremental:
            cur.execute("truncate settlement.evaluated_files")
        cur.execute(_NEW_FILES)
        if incremental:
            cur.execute(_KEYS)
            cur.execute("select count(*) from _keys")
            (evaluated,) = cur.fetchone()
            domains = _refresh_domains_of_keys(cur) if evaluated else 0
            currencies = refresh_currencies(cur, scoped=True) if evaluated else 0
        else:
            domains = refresh_registrable_domains(cur)
            currencies = refresh_currencies(cur)
            # every line: line_matches is working state, not a public record
            cur.execute("truncate settlement.line_matches, settlement.lines_to_post")
            cur.execute(
                "insert into settlement.match_state (version) values (%s) "
                "on conflict (singleton) do update set version = excluded.version",
                (version,),
            )
        if not incremental or evaluated:
            if incremental:
                cur.execute(_scoped("delete from settlement.line_matches as m /*ONLY m*/", True))
                cur.execute(_scoped(_EVALUATE, True), params)
            else:
                # every line: its indexes are built once afterwards rather than kept up row by row
                with _without_secondary_indexes(cur, "settlement.line_matches"):
                    cur.execute(_scoped(_EVALUATE, False), params)
                # filled in this transaction: without fresh statistics the planner guesses it empty
                cur.execute("analyze settlement.line_matches")
            cur.execute(_scoped(_RESOLVE_REVERSALS, incremental))
            cur.execute(_scoped(_UNRESOLVED_REVERSALS, incremental))
            cur.execute(_scoped(_DISCREPANCIES, incremental), params)  # params: so that %% reads as %
            cur.execute(_UPSERT_DISCREPANCIES, params)
            cur.execute(_scoped(_DELETE_RESOLVED_DISCREPANCIES, incremental))
            cur.execute(_QUEUE_KEYS if incremental else _QUEUE_ALL)
            cur.execute(_scoped(_TO_POST, incremental))
            cur.execute(
                "select count(*), count(*) filter (where is_reconcilable), (select count(*) from _disc) "
                "from settlement.line_matches as m " + _scoped("/*ONLY m*/", incremental)
            )
            evaluated, reconcilable, discrepancies = cur.fetchone()
        else:
            reconcilable = discrepancies = 0
        cur.execute("insert into settlement.evaluated_files select file_id from _new_files")
        cur.execute("select count(*), count(*) filter (where is_posted) from settlement.line_matches")
        lines, posted = cur.fetchone()
    result = {
        "mode": "incremental" if incremental else "full",
        "lines": lines,
        "evaluated": evaluated,
        "reconcilable": reconcilable,
        "already_posted": posted,
        "discrepancies": discrepancies,
        "new_domains": domains,
        "new_currencies": currencies,
        "new_rejected": rejected,
    }
    log.info("match_lines: %s", result)
    return result


# --------------------------------------------------------------------------- post_ledger

_POST = """
with candidates as (
    select m.*, tx.txn_id as reverses_txn_id
    from settlement.lines_to_post as p
    inner join settlement.line_matches as m using (partner, report_id, line_id)
    left join settlement.transactions as tx
        on m.is_reversal
        and tx.partner = m.partner and tx.report_id = m.target_report_id and tx.line_id = m.target_line_id
    where m.is_reconcilable and m.is_reversal = %(reversals)s
      and (not m.is_reversal or tx.txn_id is not null)
      and not exists (
          select 1 from settlement.transactions as x
          where x.partner = m.partner and x.report_id = m.report_id and x.line_id = m.line_id
      )
    order by m.partner, m.report_id, m.line_id
),
posted as (
    insert into settlement.transactions (
        partner, report_id, line_id, kind, reverses_txn_id, case_id, photographer_id, currency,
        gross_amount, partner_fee, photographer_amount, platform_amount, usd_per_unit, fx_date,
        gross_usd, fee_usd, photographer_usd, platform_usd, photographer_share, collected_at, posted_at
    )
    select
        partner, report_id, line_id,
        case when is_reversal then 'reversal' else 'settlement' end, reverses_txn_id,
        case_id, photographer_id, currency,
        gross_amount, partner_fee, photographer_amount, platform_amount, usd_per_unit, fx_date,
        gross_usd, fee_usd, photographer_usd, platform_usd, photographer_share, collected_at, %(as_of)s
    from candidates
    on conflict do nothing
    returning *
),
entries as (
    insert into settlement.ledger (txn_id, account, amount, currency, amount_usd, posted_at, source)
    select
        p.txn_id, e.account, e.amount, p.currency, e.amount_usd, p.posted_at,
        p.partner || '/' || p.report_id || '/' || p.line_id
    from posted as p
    cross join lateral (
        values
            ('partner_collections:' || p.partner, p.gross_amount, p.gross_usd),
            ('partner_fees:' || p.partner, -p.partner_fee, -p.fee_usd),
            ('photographer_payable:' || p.photographer_id, -p.photographer_amount, -p.photographer_usd),
            ('platform_revenue', -p.platform_amount, -p.platform_usd)
    ) as e (account, amount, amount_usd)
    where e.amount <> 0 or e.amount_usd <> 0
    returning 1
),
done as (
    delete from settlement.lines_to_post as d
    using posted as p
    where d.partner = p.partner and d.report_id = p.report_id and d.line_id = p.line_id
    returning 1
),
queued as (
    insert into settlement.summary_queue (partner, report_id)
    select distinct partner, report_id from posted
    on conflict do nothing
    returning 1
),
to_credit as (
    insert into settlement.txns_to_credit (txn_id)
    select txn_id from posted
)
select (select count(*) from posted), (select count(*) from entries), (select count(*) from done),
    (select count(*) from queued)
"""


def post_ledger(as_of: datetime, *, url: str | None = None, lock: bool = True) -> dict:
    """Post one balanced transaction per reconcilable line not yet posted: settlements
    first, then reversals (which reference the transaction they reverse)."""
    with db.transaction(url) as conn, conn.cursor() as cur:
        _lock(cur, lock)
        cur.execute(_POST, {"as_of": as_of, "reversals": False})
        settlements, settlement_entries = cur.fetchone()[:2]
        cur.execute(_POST, {"as_of": as_of, "reversals": True})
        reversals, reversal_entries = cur.fetchone()[:2]
    result = {
        "settlements": settlements,
        "reversals": reversals,
        "entries": settlement_entries + reversal_entries,
    }
    log.info("post_ledger: %s", result)
    return result


# ------------------------------------------------------------------- credit_photographers

_CREDIT = """
with queued_txns as (
    delete from settlement.txns_to_credit returning txn_id
),
credited as (
insert into settlement.credits (
    photographer_id, case_id, amount, currency, amount_usd, credited_at, source,
    partner, report_id, line_id, txn_id
)
select
    t.photographer_id, t.case_id, t.photographer_amount, t.currency, t.photographer_usd, %(as_of)s,
    t.partner || '/' || t.report_id || '/' || t.line_id, t.partner, t.report_id, t.line_id, t.txn_id
from queued_txns as q
inner join settlement.transactions as t on t.txn_id = q.txn_id
where not exists (select 1 from settlement.credits as c where c.txn_id = t.txn_id)
order by t.txn_id
on conflict do nothing
returning partner, report_id
),
queued as (
    insert into settlement.summary_queue (partner, report_id)
    select distinct partner, report_id from credited
    on conflict do nothing
)
select count(*) from credited
"""


def credit_photographers(as_of: datetime, *, url: str | None = None, lock: bool = True) -> dict:
    """One credit per posted transaction (a reversal credits a negative amount)."""
    with db.transaction(url) as conn, conn.cursor() as cur:
        _lock(cur, lock)
        cur.execute(_CREDIT, {"as_of": as_of})
        (credited,) = cur.fetchone()
    log.info("credit_photographers: %s new credits", credited)
    return {"credits": credited}


# --------------------------------------------------------------------- summarise_reports

_SUMMARISE = """
insert into settlement.report_summaries (
    partner, report_id, lines, matched, credited, discrepant_lines, rejected_at_ingest,
    discrepancies_by_kind, totals_by_currency, reported_gross_usd, credited_usd, summarised_at
)
with reports as (
    select q.partner, q.report_id
    from _q as q
    where exists (select 1 from settlement.line_matches as m where m.partner = q.partner and m.report_id = q.report_id)
       or exists (select 1 from settlement.rejected_lines as r where r.partner = q.partner and r.report_id = q.report_id)
       or exists (select 1 from settlement.credits as c where c.partner = q.partner and c.report_id = q.report_id)
),
line_counts as (
    select
        partner, report_id, count(*) as lines, count(case_id) as matched,
        count(*) filter (where not is_posted and kinds <> '{}') as discrepant_lines,
        coalesce(sum(gross_usd), 0) as reported_gross_usd
    from settlement.line_matches inner join _q using (partner, report_id)
    group by partner, report_id
),
credit_counts as (
    select partner, report_id, count(*) as credited, sum(amount_usd) as credited_usd
    from settlement.credits inner join _q using (partner, report_id)
    group by partner, report_id
),
rejected as (
    select partner, report_id, count(*) as rejected
    from settlement.rejected_lines inner join _q using (partner, report_id)
    group by partner, report_id
),
kinds as (
    select partner, report_id, jsonb_object_agg(kind, n order by kind) as by_kind
    from (
        select partner, report_id, kind, count(*) as n
        from settlement.discrepancies inner join _q using (partner, report_id)
        group by partner, report_id, kind
    ) as k
    group by partner, report_id
),
currency_totals as (
    select
        m.partner, m.report_id, m.currency,
        count(*) as lines, sum(m.gross_amount) as reported_gross,
        count(t.txn_id) as posted, coalesce(sum(t.gross_amount), 0) as posted_gross,
        coalesce(sum(t.partner_fee), 0) as partner_fee,
        coalesce(sum(t.photographer_amount), 0) as photographer,
        coalesce(sum(t.platform_amount), 0) as platform,
        coalesce(sum(t.gross_usd), 0) as posted_gross_usd
    from settlement.line_matches as m
    inner join _q as q on q.partner = m.partner and q.report_id = m.report_id
    left join settlement.transactions as t
        on t.partner = m.partner and t.report_id = m.report_id and t.line_id = m.line_id
    group by m.partner, m.report_id, m.currency
),
totals as (
    select
        partner, report_id,
        jsonb_object_agg(
            coalesce(currency, '?'),
            jsonb_build_object(
                'lines', lines, 'reported_gross', reported_gross, 'posted', posted,
                'posted_gross', posted_gross, 'partner_fee', partner_fee, 'photographer', photographer,
                'platform', platform, 'posted_gross_usd', posted_gross_usd
            )
            order by currency
        ) as by_currency
    from currency_totals
    group by partner, report_id
)
select
    r.partner, r.report_id,
    coalesce(l.lines, 0) + coalesce(q.rejected, 0), coalesce(l.matched, 0), coalesce(c.credited, 0),
    coalesce(l.discrepant_lines, 0) + coalesce(q.rejected, 0), coalesce(q.rejected, 0),
    coalesce(k.by_kind, '{}'), coalesce(t.by_currency, '{}'),
    coalesce(l.reported_gross_usd, 0), coalesce(c.credited_usd, 0), %(as_of)s
from reports as r
left join line_counts as l using (partner, report_id)
left join credit_counts as c using (partner, report_id)
left join rejected as q using (partner, report_id)
left join kinds as k using (partner, report_id)
left join totals as t using (partner, report_id)
"""


def summarise_reports(as_of: datetime, *, url: str | None = None, lock: bool = True) -> dict:
    """Rebuild the rows of settlement.report_summaries (one per partner report) of the
    reports queued in settlement.summary_queue since the last summary."""
    with db.transaction(url) as conn, conn.cursor() as cur:
        _lock(cur, lock)
        cur.execute("create temp table _q (partner text, report_id text, primary key (partner, report_id)) "
                    "on commit drop")
        cur.execute("with d as (delete from settlement.summary_queue returning partner, report_id) "
                    "insert into _q select partner, report_id from d")
        cur.execute("analyze _q")
        cur.execute("delete from settlement.report_summaries as s using _q "
                    "where s.partner = _q.partner and s.report_id = _q.report_id")
        cur.execute(_SUMMARISE, {"as_of": as_of})
        reports = cur.rowcount
    return {"reports": reports}


def reconcile(as_of: datetime, *, share=None, url: str | None = None, landing: Path | None = None,
              lock: bool = True) -> dict:
    """All four steps, in order (what the DAG runs, in one call)."""
    result = {"match_lines": match_lines(as_of, share=share, url=url, landing=landing, lock=lock)}
    result["post_ledger"] = post_ledger(as_of, url=url, lock=lock)
    result["credit_photographers"] = credit_photographers(as_of, url=url, lock=lock)
    result["summarise_reports"] = summarise_reports(as_of, url=url, lock=lock)
    return result

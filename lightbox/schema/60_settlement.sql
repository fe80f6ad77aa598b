-- Settlement reconciliation (settlement_reconcile): partner report lines matched to cases,
-- split into partner fee, photographer share and platform residue, posted to an insert-only
-- double-entry ledger and credited to photographers exactly once.
--
-- Sign convention of settlement.ledger.amount: debit positive, credit negative; the entries
-- of a transaction sum to zero per currency (and in USD).

-- Minor units per currency, filled from babel for the currencies the reports use.
create table if not exists settlement.currencies (
    currency text primary key,
    minor_units integer not null check (minor_units between 0 and 6)
);

-- Registrable domain (eTLD+1) of every domain seen in reports and cases, computed once per
-- distinct domain in Python (tldextract) so that matching stays a set-based join.
create table if not exists settlement.registrable_domains (
    domain text primary key,
    registrable text not null
);
create index if not exists registrable_domains_registrable on settlement.registrable_domains (registrable);

-- Quarantined settlement lines (raw.quarantine) with the key parsed from their payload.
create table if not exists settlement.rejected_lines (
    quarantine_id bigint primary key,
    partner text not null,
    report_id text not null,
    line_id text not null,
    reason text not null,
    file text not null,
    line bigint not null
);

-- Banker's rounding (half to even) to a number of decimal places (0 to 6). round() on
-- numeric rounds half away from zero. Plain SQL, not strict, cheap arguments: the planner
-- inlines it (a non-inlined call costs more than the rest of the reconciliation).
create or replace function settlement.round_half_even(x numeric, places integer)
returns numeric
language sql immutable parallel safe
as $$
    select round(
        case
            when abs(x * ('{1,10,100,1000,10000,100000,1000000}'::numeric[])[places + 1]
                    - trunc(x * ('{1,10,100,1000,10000,100000,1000000}'::numeric[])[places + 1])) = 0.5
                and mod(trunc(x * ('{1,10,100,1000,10000,100000,1000000}'::numeric[])[places + 1]), 2) = 0
                then trunc(x * ('{1,10,100,1000,10000,100000,1000000}'::numeric[])[places + 1])
            else round(x * ('{1,10,100,1000,10000,100000,1000000}'::numeric[])[places + 1])
        end / ('{1,10,100,1000,10000,100000,1000000}'::numeric[])[places + 1],
        places
    )
$$;

-- The working state of match_lines: one row per current report line with the version of the
-- line it was evaluated from (source_file_id, source_line); a run re-evaluates only the lines
-- whose version or inputs changed (unlogged: after a server crash it is empty, and the next
-- match_lines rebuilds it). An older shape of this cache is replaced: it holds nothing that
-- the next run does not rebuild.
do $$
begin
    if to_regclass('settlement.line_matches') is not null and not exists (
        select 1 from information_schema.columns
        where table_schema = 'settlement' and table_name = 'line_matches' and column_name = 'source_file_id'
    ) then
        drop table settlement.line_matches;
    end if;
end
$$;
create unlogged table if not exists settlement.line_matches (
    partner text not null,
    report_id text not null,
    line_id text not null,
    -- the version of raw.settlement_reports this row was evaluated from
    source_file_id bigint,
    source_line bigint,
    -- the line as reported
    case_ref text,
    line_photo_id text,
    infringer_domain text,
    reverses_line_id text,
    reverses_report_id text,
    deliveries bigint,
    original_report_id text,
    original_line_id text,
    is_reversal boolean not null default false,
    -- the match
    case_id text,
    photographer_id text,
    photo_id text,
    match_method text,
    case_status text,
    opened_at timestamptz,
    on_hold boolean,
    target_report_id text,
    target_line_id text,
    -- money
    currency text,
    minor_units integer,
    gross_amount numeric,
    partner_fee numeric,
    collected_at timestamptz,
    fx_date date,
    usd_per_unit numeric,
    has_rates boolean,
    net_amount numeric,
    photographer_amount numeric,
    platform_amount numeric,
    gross_usd numeric,
    fee_usd numeric,
    photographer_usd numeric,
    platform_usd numeric,
    photographer_share numeric not null,
    -- what was posted for it already when it was evaluated (settlement.transactions says what
    -- is posted now: post_ledger does not come back to update this)
    is_posted boolean not null default false,
    posted_gross numeric,
    posted_fee numeric,
    posted_currency text,
    kinds text[] not null default '{}',
    is_reconcilable boolean generated always as (not is_posted and kinds = '{}') stored,
    matched_at timestamptz not null,
    primary key (partner, report_id, line_id)
);
-- what an incremental run looks lines up by: the lines a changed case, hold or rate touches,
-- the reversals of a changed line, the lines with the same content (duplicate detection)
create index if not exists line_matches_case_ref on settlement.line_matches (case_ref);
create index if not exists line_matches_case on settlement.line_matches (case_id);
create index if not exists line_matches_line_photo on settlement.line_matches (line_photo_id);
create index if not exists line_matches_photo on settlement.line_matches (photo_id);
create index if not exists line_matches_rate on settlement.line_matches (currency, fx_date);
create index if not exists line_matches_reverses
    on settlement.line_matches (partner, reverses_line_id) where reverses_line_id is not null;
create index if not exists line_matches_content on settlement.line_matches (partner, gross_amount, collected_at);
drop index if exists settlement.line_matches_to_post;

-- What line_matches was evaluated with: the evaluation's version (its SQL, the share, the
-- ceiling: a change re-evaluates every line), and a hash per case, hold and fx rate (a
-- changed one re-evaluates the lines it touches).
create unlogged table if not exists settlement.match_state (
    singleton boolean primary key default true check (singleton),
    version text not null
);
create unlogged table if not exists settlement.input_state (
    kind text not null,
    key text not null,
    hash bigint not null,
    primary key (kind, key)
);
-- Reconcilable lines not yet posted (filled by match_lines, emptied by post_ledger): what
-- post_ledger reads instead of every line. line_matches.is_posted is as of the line's
-- evaluation; settlement.transactions says what is posted now.
create unlogged table if not exists settlement.lines_to_post (
    partner text not null,
    report_id text not null,
    line_id text not null,
    primary key (partner, report_id, line_id)
);
-- The landing files (raw.settlement_reports_history._file_id) whose lines line_matches has
-- evaluated: a run evaluates the lines of the other files, committed since, whatever their
-- arrival time says.
create unlogged table if not exists settlement.evaluated_files (
    file_id bigint primary key
);
-- Reports whose summary is out of date (filled by match_lines, post_ledger and
-- credit_photographers, emptied by summarise_reports).
create table if not exists settlement.summary_queue (
    partner text not null,
    report_id text not null,
    primary key (partner, report_id)
);

-- One transaction per reconciled line (a settlement, or a reversal of an earlier one).
create table if not exists settlement.transactions (
    txn_id bigint generated always as identity primary key,
    partner text not null,
    report_id text not null,
    line_id text not null,
    kind text not null check (kind in ('settlement', 'reversal')),
    reverses_txn_id bigint references settlement.transactions (txn_id),
    case_id text not null,
    photographer_id text not null,
    currency text not null,
    gross_amount numeric not null,
    partner_fee numeric not null,
    photographer_amount numeric not null,
    platform_amount numeric not null,
    usd_per_unit numeric not null,
    fx_date date not null,
    gross_usd numeric not null,
    fee_usd numeric not null,
    photographer_usd numeric not null,
    platform_usd numeric not null,
    photographer_share numeric not null,
    collected_at timestamptz not null,
    posted_at timestamptz not null,
    check (gross_amount = partner_fee + photographer_amount + platform_amount),
    check (gross_usd = fee_usd + photographer_usd + platform_usd),
    check ((kind = 'reversal') = (reverses_txn_id is not null)),
    unique (partner, report_id, line_id)
);
-- A transaction is reversed at most once.
create unique index if not exists transactions_reversed_once
    on settlement.transactions (reverses_txn_id) where reverses_txn_id is not null;

create table if not exists settlement.ledger (
    entry_id bigint generated always as identity primary key,
    txn_id bigint not null,
    account text not null,
    amount numeric not null,
    currency text not null,
    amount_usd numeric not null,
    posted_at timestamptz not null,
    source text not null
);
create index if not exists ledger_txn on settlement.ledger (txn_id);

create table if not exists settlement.credits (
    credit_id bigint generated always as identity primary key,
    photographer_id text not null,
    case_id text not null,
    amount numeric not null,
    currency text not null,
    amount_usd numeric not null,
    credited_at timestamptz not null,
    source text not null,
    partner text not null,
    report_id text not null,
    line_id text not null,
    txn_id bigint not null unique,
    -- the guarantee: one credit per partner line, whatever the retries or concurrent runs
    unique (partner, report_id, line_id)
);
create index if not exists credits_photographer on settlement.credits (photographer_id);

-- Report lines that do not reconcile, or that finance must know about (a re-delivery, a
-- change after posting). One row per line, kind and delivery (source_ref).
create table if not exists settlement.discrepancies (
    partner text not null,
    report_id text not null,
    line_id text not null,
    kind text not null,
    detail text not null,
    source_ref text not null default '',
    is_blocking boolean not null default true,
    case_id text,
    amount numeric,
    currency text,
    amount_usd numeric,
    detected_at timestamptz not null,
    primary key (partner, report_id, line_id, kind, source_ref)
);

-- Per report: what finance reads (refreshed by summarise_reports).
create table if not exists settlement.report_summaries (
    partner text not null,
    report_id text not null,
    lines bigint not null,
    matched bigint not null,
    credited bigint not null,
    discrepant_lines bigint not null,
    rejected_at_ingest bigint not null,
    discrepancies_by_kind jsonb not null,
    totals_by_currency jsonb not null,
    reported_gross_usd numeric not null,
    credited_usd numeric not null,
    summarised_at timestamptz not null,
    primary key (partner, report_id)
);

-- Posted transactions not yet credited (filled by post_ledger in the posting's transaction,
-- emptied by credit_photographers in the crediting's): what crediting reads instead of every
-- transaction. Transactions posted before this queue existed and never credited join it here.
create table if not exists settlement.txns_to_credit (
    txn_id bigint primary key
);
insert into settlement.txns_to_credit
select t.txn_id from settlement.transactions as t
where not exists (select 1 from settlement.credits as c where c.txn_id = t.txn_id)
on conflict do nothing;

-- Posted money is never changed: corrections are new (reversal) transactions.
create or replace function settlement.reject_change() returns trigger
language plpgsql as $$
begin
    raise exception 'settlement.% is insert-only: post a reversal instead of % ', tg_table_name, lower(tg_op)
        using errcode = 'restrict_violation';
end
$$;

-- Every statement that posts entries posts whole transactions: each balances per currency
-- and in USD.
create or replace function settlement.check_balanced() returns trigger
language plpgsql as $$
declare
    bad record;
begin
    select txn_id, currency, sum(amount) as amount, sum(amount_usd) as amount_usd into bad
    from new_entries
    group by txn_id, currency
    having sum(amount) <> 0 or sum(amount_usd) <> 0
    limit 1;
    if found then
        raise exception 'unbalanced ledger transaction %: % % (USD %)', bad.txn_id, bad.amount, bad.currency, bad.amount_usd
            using errcode = 'check_violation';
    end if;
    return null;
end
$$;

do $$
declare
    t text;
begin
    foreach t in array array['ledger', 'transactions', 'credits'] loop
        if not exists (
            select 1 from pg_trigger
            where tgname = t || '_insert_only' and tgrelid = ('settlement.' || t)::regclass
        ) then
            execute format(
                'create trigger %I before update or delete on settlement.%I '
                'for each row execute function settlement.reject_change()', t || '_insert_only', t);
            execute format(
                'create trigger %I before truncate on settlement.%I '
                'for each statement execute function settlement.reject_change()', t || '_no_truncate', t);
        end if;
    end loop;
    if not exists (
        select 1 from pg_trigger where tgname = 'ledger_balanced' and tgrelid = 'settlement.ledger'::regclass
    ) then
        create trigger ledger_balanced after insert on settlement.ledger
            referencing new table as new_entries
            for each statement execute function settlement.check_balanced();
    end if;
end
$$;

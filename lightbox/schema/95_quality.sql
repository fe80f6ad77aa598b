-- Data quality (quality_report and the validate_<stage> gates): one row per suite run, and
-- one row per expectation of that run, so auditors see trends, not only today.
create table if not exists quality.results (
    result_id bigint generated always as identity primary key,
    run_id text not null,           -- the Airflow run (or CLI run) that ran the suite
    suite text not null,
    stage text not null,            -- raw, scores, matches, ledger, replication
    severity text not null check (severity in ('critical', 'warning')),
    asset text not null,            -- the table(s) the suite reads
    success boolean not null,
    evaluated integer not null,
    failed integer not null,
    run_at timestamptz not null,    -- when the suite ran
    as_of timestamptz,              -- the data interval the suite judged
    docs_uri text,                  -- the suite run's Data Docs page
    summary text,                   -- one line a person can read
    rows_checked bigint,
    unique (run_id, suite)
);
create index if not exists results_suite on quality.results (suite, run_at desc);

create table if not exists quality.expectation_results (
    run_id text not null,
    suite text not null,
    position integer not null,
    expectation text not null,      -- GX expectation type
    column_name text,
    success boolean not null,
    unexpected_count bigint,
    observed text,
    unexpected_sample jsonb,
    message text not null,          -- what the expectation means, from the suite
    primary key (run_id, suite, position),
    foreign key (run_id, suite) references quality.results (run_id, suite) on delete cascade
);

-- Auditors read the quality history (the role comes from 90_roles.sql).
do $$
begin
    if exists (select 1 from pg_roles where rolname = 'auditor') then
        grant select on quality.results, quality.expectation_results to auditor;
    end if;
end
$$;

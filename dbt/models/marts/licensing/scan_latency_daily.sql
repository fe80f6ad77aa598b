-- How long the AI scan took, per day a submission landed: the licensing team's view of the
-- promise "scanned in under a minute" (docs/aiscan.md). Latency = landing (loaded into raw)
-- to the score written; submitted_to_scanned adds the marketplace's own delay.
with

submissions as (
    select * from {{ ref('stg_aiscan__submission_statuses') }}
    where landed_at is not null
),

timed as (
    select
        (landed_at at time zone 'utc')::date as landed_on,
        scanned_at is not null as is_scanned,
        scan_seconds,
        extract(epoch from scanned_at - submitted_at) as submitted_to_scanned_seconds
    from submissions
),

final as (
    select
        landed_on,
        count(*) as submissions,
        count(*) filter (where is_scanned) as scanned,
        round((percentile_cont(0.5) within group (order by scan_seconds))::numeric, 1) as p50_scan_seconds,
        round((percentile_cont(0.95) within group (order by scan_seconds))::numeric, 1) as p95_scan_seconds,
        round(max(scan_seconds)::numeric, 1) as max_scan_seconds,
        round((percentile_cont(0.5) within group (order by submitted_to_scanned_seconds))::numeric, 1)
            as p50_submitted_to_scanned_seconds,
        round((percentile_cont(0.95) within group (order by submitted_to_scanned_seconds))::numeric, 1)
            as p95_submitted_to_scanned_seconds
    from timed
    group by landed_on
)

select * from final

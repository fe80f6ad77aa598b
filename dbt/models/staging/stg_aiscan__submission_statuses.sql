-- A table, built once per build: the view is the status of every submitted photo (histories,
-- scores, queue and decisions per photo), and its tests and scan_latency_daily would evaluate
-- it once each.
{{ config(materialized='table', indexes=[{'columns': ['photo_id']}]) }}

with

source as (
    select * from {{ source('aiscan', 'submission_status') }}
),

final as (
    select
        photo_id,
        owner_id,
        status,
        submitted_by,
        scan_decision,
        review_decision,
        uploaded_at,
        submitted_at,
        landed_at,
        scanned_at,
        queued_at,
        decided_at,
        removed_at,
        scan_seconds
    from source
)

select * from final

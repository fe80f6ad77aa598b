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

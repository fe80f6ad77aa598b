with

source as (
    select * from {{ source('licensing', 'review_queue') }}
),

final as (
    select
        photo_id,
        priority,
        status,
        claimed_by,
        claimed_at,
        decision,
        decided_at,
        enqueued_at
    from source
)

select * from final

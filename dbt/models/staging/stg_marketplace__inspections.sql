with

source as (
    select * from {{ source('marketplace', 'inspections') }}
),

final as (
    select
        photo_id || '@' || to_char(decided_at at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.US') as inspection_id,
        photo_id,
        inspector_id,
        decision,
        reason,
        decided_at,
        'landing' as decision_source
    from source
)

select * from final

with

source as (
    select * from {{ source('licensing', 'decisions') }}
),

final as (
    select
        'app-' || decision_id as inspection_id,
        photo_id,
        inspector_id,
        decision,
        reason,
        decided_at,
        'inspector_app' as decision_source
    from source
)

select * from final

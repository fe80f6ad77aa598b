with

source as (
    select * from {{ source('licensing', 'scores') }}
),

final as (
    select
        photo_id || '@' || model_version as score_id,
        photo_id,
        model_version,
        p_suitable,
        p_sale,
        decision as scan_decision,
        scored_at
    from source
)

select * from final

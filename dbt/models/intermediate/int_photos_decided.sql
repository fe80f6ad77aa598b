-- The latest inspector decision per photo.
with

inspections as (
    select * from {{ ref('int_inspections_unioned') }}
),

ranked as (
    select
        *,
        row_number() over (partition by photo_id order by decided_at desc, inspection_id desc) as recency
    from inspections
),

final as (
    select
        photo_id,
        inspector_id,
        decision,
        reason,
        decided_at,
        decision_source
    from ranked
    where recency = 1
)

select * from final

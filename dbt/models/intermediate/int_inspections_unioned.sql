-- Every inspector decision, from the landing folder and from the inspector app, with when it
-- reached the warehouse (the app writes its decisions there as they are made).
with

landing as (
    select * from {{ ref('stg_marketplace__inspections') }}
),

app as (
    select * from {{ ref('stg_licensing__decisions') }}
),

final as (
    select
        inspection_id,
        photo_id,
        inspector_id,
        decision,
        reason,
        decided_at,
        decision_source,
        arrived_at
    from landing
    union all
    select
        inspection_id,
        photo_id,
        inspector_id,
        decision,
        reason,
        decided_at,
        decision_source,
        decided_at as arrived_at
    from app
)

select * from final

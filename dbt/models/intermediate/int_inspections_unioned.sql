-- Every inspector decision, from the landing folder and from the inspector app.
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
        decision_source
    from landing
    union all
    select
        inspection_id,
        photo_id,
        inspector_id,
        decision,
        reason,
        decided_at,
        decision_source
    from app
)

select * from final

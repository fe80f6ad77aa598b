with

source as (
    select * from {{ source('marketplace', 'region_consents') }}
),

final as (
    select
        event_id,
        user_id,
        lower(region) as region,
        photo_id,
        action,
        at as consented_at,
        photo_id is not null as is_photo_level
    from source
)

select * from final

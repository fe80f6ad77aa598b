with

source as (
    select * from {{ source('infringement', 'matches') }}
),

final as (
    select
        match_id,
        photo_id,
        page_url,
        image_url,
        distance,
        method,
        coalesce(transform, 'unknown') as transform,
        status,
        infringer_domain,
        case_id,
        first_seen_at,
        last_seen_at
    from source
)

select * from final

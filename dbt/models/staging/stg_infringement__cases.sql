with

source as (
    select * from {{ source('infringement', 'cases') }}
),

final as (
    select
        case_id,
        photo_id,
        owner_id,
        infringer_domain,
        opened_at,
        status,
        evidence_uri
    from source
)

select * from final

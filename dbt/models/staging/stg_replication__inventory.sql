with

source as (
    select * from {{ source('replication', 'inventory') }}
),

final as (
    select
        region || '/' || photo_id as inventory_id,
        region,
        photo_id,
        owner_id,
        object_key,
        sha256,
        size_bytes,
        replicated_at,
        held_since,
        consent_event_id
    from source
)

select * from final

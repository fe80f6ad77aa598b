-- What each regional mirror holds: objects, bytes and photographers.
with

inventory as (
    select * from {{ ref('stg_replication__inventory') }}
),

final as (
    select
        region,
        count(*) as objects,
        sum(size_bytes) as bytes,
        count(distinct owner_id) as photographers,
        min(held_since) as oldest_held_since,
        max(replicated_at) as last_replicated_at
    from inventory
    group by region
)

select * from final

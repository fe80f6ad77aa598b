with

source as (
    select * from {{ source('marketplace', 'users') }}
),

final as (
    select
        user_id,
        username,
        country,
        joined_at,
        auto_licensing as is_auto_licensing,
        default_exclusive as is_default_exclusive,
        updated_at,
        deleted_at,
        deleted_at is not null as is_deleted
    from source
)

select * from final

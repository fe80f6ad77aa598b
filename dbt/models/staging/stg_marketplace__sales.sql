with

source as (
    select * from {{ source('marketplace', 'sales') }}
),

final as (
    select
        sale_id,
        photo_id,
        sold_at,
        license_type,
        amount,
        currency,
        _arrived_at as arrived_at
    from source
)

select * from final

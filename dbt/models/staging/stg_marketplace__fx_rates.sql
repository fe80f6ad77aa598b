with

source as (
    select * from {{ source('marketplace', 'fx_rates') }}
),

final as (
    select
        rate_date || ':' || currency as fx_rate_id,
        rate_date,
        currency,
        usd_per_unit
    from source
)

select * from final

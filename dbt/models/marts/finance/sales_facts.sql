-- One row per sale with its USD value at the sale date's rate. Incremental: a build only
-- reads sales that arrived since the last one, and those still without their photo or rate.
{{ config(
    materialized='incremental',
    unique_key='sale_id',
    indexes=[{'columns': ['sale_id'], 'unique': true}, {'columns': ['arrived_at']}]
) }}

with

sales as (
    select * from {{ ref('stg_marketplace__sales') }}
    where {{ arrived_since('arrived_at') }}
    {% if is_incremental() %}
        -- built before their photo or their day's rate arrived: built again
        or sale_id in (
            select built.sale_id from {{ this }} as built
            where built.photographer_id is null or built.amount_usd is null
        )
    {% endif %}
),

photos as (
    select
        photo_id,
        owner_id
    from {{ ref('stg_marketplace__photos') }}
),

fx as (
    select * from {{ ref('stg_marketplace__fx_rates') }}
),

final as (
    select
        sales.sale_id,
        sales.photo_id,
        photos.owner_id as photographer_id,
        sales.sold_at,
        sales.license_type,
        sales.amount,
        sales.currency,
        round(sales.amount * fx.usd_per_unit, 2) as amount_usd,
        sales.arrived_at,
        {{ built_at() }}
    from sales
    left join photos on sales.photo_id = photos.photo_id
    left join fx
        on
            sales.currency = fx.currency
            and (sales.sold_at at time zone 'utc')::date = fx.rate_date
)

select * from final

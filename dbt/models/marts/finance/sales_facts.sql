-- One row per sale with its USD value at the sale date's rate. Incremental: a build only
-- reads sales that arrived since the last one.
{{ config(
    materialized='incremental',
    unique_key='sale_id',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['sale_id'], 'unique': true}, {'columns': ['arrived_at']}]
) }}

with

sales as (
    select * from {{ ref('stg_marketplace__sales') }}
    {% if is_incremental() and execute %}
        {#- a constant, not a subquery: the planner then reads only the new rows by index -#}
        {%- set last_arrival = run_query(
            "select coalesce(max(arrived_at), '-infinity'::timestamptz)::text from " ~ this
        ).columns[0].values()[0] %}
        where arrived_at > '{{ last_arrival }}'::timestamptz
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
        sales.arrived_at
    from sales
    left join photos on sales.photo_id = photos.photo_id
    left join fx
        on
            sales.currency = fx.currency
            and (sales.sold_at at time zone 'utc')::date = fx.rate_date
)

select * from final

-- Licence sales.
-- Incremental (dbt_project.yml): a build reads only the rows that arrived since the last one;
-- a newer version of a key replaces the old one.
{{ config(
    materialized='incremental',
    unique_key='sale_id',
    indexes=[{'columns': ['sale_id'], 'unique': true}, {'columns': ['arrived_at']}, {'columns': ['photo_id']}]
) }}

with

source as (
    select * from {{ source('marketplace', 'sales') }}
    where {{ arrived_since('_arrived_at') }}
),

final as (
    select
        sale_id,
        photo_id,
        sold_at,
        license_type,
        amount,
        currency,
        _arrived_at as arrived_at,
        {{ built_at() }}
    from source
)

select * from final

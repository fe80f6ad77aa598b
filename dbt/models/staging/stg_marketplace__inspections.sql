-- Inspector decisions delivered through the landing folder.
-- Incremental (dbt_project.yml): a build reads only the rows that arrived since the last one;
-- a newer version of a key replaces the old one.
{{ config(
    materialized='incremental',
    unique_key='inspection_id',
    indexes=[{'columns': ['inspection_id'], 'unique': true}, {'columns': ['arrived_at']}, {'columns': ['photo_id']}]
) }}

with

source as (
    select * from {{ source('marketplace', 'inspections') }}
    where {{ arrived_since('_arrived_at') }}
),

final as (
    select
        photo_id || '@' || to_char(decided_at at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.US') as inspection_id,
        photo_id,
        inspector_id,
        decision,
        reason,
        decided_at,
        'landing' as decision_source,
        _arrived_at as arrived_at,
        {{ built_at() }}
    from source
)

select * from final

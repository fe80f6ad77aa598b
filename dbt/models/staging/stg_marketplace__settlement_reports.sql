-- Partner settlement report lines, current version per line.
-- Incremental (dbt_project.yml): a build reads only the rows that arrived since the last one;
-- a newer version of a key replaces the old one.
{{ config(
    materialized='incremental',
    unique_key='report_line_id',
    indexes=[{'columns': ['report_line_id'], 'unique': true}, {'columns': ['arrived_at']}]
) }}

with

source as (
    select * from {{ source('marketplace', 'settlement_reports') }}
    where {{ arrived_since('_arrived_at') }}
),

final as (
    select
        partner || '/' || report_id || '/' || line_id as report_line_id,
        partner,
        report_id,
        line_id,
        case_ref,
        photo_id,
        infringer_domain,
        gross_amount,
        partner_fee,
        currency,
        collected_at,
        _arrived_at as arrived_at,
        {{ built_at() }}
    from source
)

select * from final

-- Marketplace photos, current version per photo.
-- Incremental (dbt_project.yml): a build reads only the rows that arrived since the last one;
-- a newer version of a key replaces the old one.
{{ config(
    materialized='incremental',
    unique_key='photo_id',
    indexes=[{'columns': ['photo_id'], 'unique': true}, {'columns': ['arrived_at']}, {'columns': ['owner_id']}]
) }}

with

source as (
    select * from {{ source('marketplace', 'photos') }}
    where {{ arrived_since('_arrived_at') }}
),

final as (
    select
        photo_id,
        owner_id,
        uploaded_at,
        title,
        category,
        width,
        height,
        has_people,
        has_property,
        model_release as has_model_release,
        property_release as has_property_release,
        submitted_for_licensing as is_submitted_for_licensing,
        removed_from_licensing as is_removed_from_licensing,
        deleted_at,
        deleted_at is not null as is_deleted,
        updated_at,
        _arrived_at as arrived_at,
        {{ built_at() }}
    from source
)

select * from final

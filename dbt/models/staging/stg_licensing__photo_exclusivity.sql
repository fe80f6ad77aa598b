-- Exclusivity by the platform's one rule (licensing.photo_exclusivity): support's latest
-- change, else the photo's own flag, else the owner's default at upload. Never recomputed
-- here: every model that asks whether a photo is exclusive joins this one.
-- A table, built once per build: the view evaluates the rule for every photo (a lookup per
-- photo of its owner's version at upload), and its tests would evaluate it once each.
{{ config(materialized='table', indexes=[{'columns': ['photo_id']}]) }}

with

source as (
    select * from {{ source('licensing', 'photo_exclusivity') }}
),

final as (
    select
        photo_id,
        owner_id,
        is_exclusive,
        exclusive_source,
        changed_by as exclusivity_changed_by,
        changed_at as exclusivity_changed_at
    from source
)

select * from final

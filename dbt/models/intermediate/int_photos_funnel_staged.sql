-- One row per photo with how far it went through the licensing funnel (deleted photos too,
-- flagged: the funnel mart leaves them out).
-- Incremental: a build recomputes only the photos with something new since the last one (a
-- newer version of the photo, a score, a queue entry, a decision or a sale); the watermark of
-- each input is the latest of its time this model holds.
{{ config(
    materialized='incremental',
    unique_key='photo_id',
    indexes=[{'columns': ['photo_id'], 'unique': true}]
) }}

with

{% if is_incremental() %}
changed as materialized (
    select photo_id from {{ ref('stg_marketplace__photos') }}
    where {{ arrived_since('arrived_at', 'photo_arrived_at') }}
    union
    select photo_id from {{ ref('stg_licensing__scores') }}
    where {{ arrived_since('scored_at', 'last_scored_at') }}
    union
    select photo_id from {{ ref('stg_licensing__review_queue') }}
    where {{ arrived_since('enqueued_at', 'enqueued_at') }}
    union
    select photo_id from {{ ref('int_inspections_unioned') }}
    where {{ arrived_since('arrived_at', 'last_decision_arrived_at') }}
    union
    select photo_id from {{ ref('stg_marketplace__sales') }}
    where {{ arrived_since('arrived_at', 'last_sale_arrived_at') }}
),
{% endif %}

photos as (
    select * from {{ ref('stg_marketplace__photos') }}
    {% if is_incremental() %}where photo_id in (select changed.photo_id from changed){% endif %}
),

scores as (
    select
        photo_id,
        max(scored_at) as last_scored_at,
        bool_or(scan_decision = 'changes_required') as was_changes_required,
        bool_or(scan_decision = 'under_review') as was_under_review
    from {{ ref('stg_licensing__scores') }}
    {% if is_incremental() %}where photo_id in (select changed.photo_id from changed){% endif %}
    group by photo_id
),

queue as (
    select
        photo_id,
        enqueued_at
    from {{ ref('stg_licensing__review_queue') }}
    {% if is_incremental() %}where photo_id in (select changed.photo_id from changed){% endif %}
),

decided as (
    select * from {{ ref('int_photos_decided') }}
    {% if is_incremental() %}where photo_id in (select changed.photo_id from changed){% endif %}
),

decision_arrivals as (
    select
        photo_id,
        max(arrived_at) as last_decision_arrived_at
    from {{ ref('int_inspections_unioned') }}
    {% if is_incremental() %}where photo_id in (select changed.photo_id from changed){% endif %}
    group by photo_id
),

sales as (
    select
        photo_id,
        min(sold_at) as first_sold_at,
        max(arrived_at) as last_sale_arrived_at
    from {{ ref('stg_marketplace__sales') }}
    {% if is_incremental() %}where photo_id in (select changed.photo_id from changed){% endif %}
    group by photo_id
),

final as (
    select
        photos.photo_id,
        photos.owner_id,
        coalesce(photos.category, 'uncategorised') as category,
        date_trunc('week', photos.uploaded_at at time zone 'utc')::date as upload_week,
        photos.is_deleted,
        photos.is_submitted_for_licensing or scores.photo_id is not null as is_submitted,
        scores.photo_id is not null as is_scanned,
        queue.photo_id is not null as is_queued,
        coalesce(scores.was_changes_required, false) as is_changes_required,
        decided.photo_id is not null as is_decided,
        coalesce(decided.decision = 'accepted', false) as is_accepted,
        sales.photo_id is not null as is_sold,
        -- the watermarks of the next incremental build
        photos.arrived_at as photo_arrived_at,
        scores.last_scored_at,
        queue.enqueued_at,
        decision_arrivals.last_decision_arrived_at,
        sales.last_sale_arrived_at,
        {{ built_at() }}
    from photos
    left join scores on photos.photo_id = scores.photo_id
    left join queue on photos.photo_id = queue.photo_id
    left join decided on photos.photo_id = decided.photo_id
    left join decision_arrivals on photos.photo_id = decision_arrivals.photo_id
    left join sales on photos.photo_id = sales.photo_id
)

select * from final

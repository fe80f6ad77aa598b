-- One row per photo with how far it went through the licensing funnel.
with

photos as (
    select * from {{ ref('stg_marketplace__photos') }}
),

scores as (
    select
        photo_id,
        max(scored_at) as last_scored_at,
        bool_or(scan_decision = 'changes_required') as was_changes_required,
        bool_or(scan_decision = 'under_review') as was_under_review
    from {{ ref('stg_licensing__scores') }}
    group by photo_id
),

queue as (
    select * from {{ ref('stg_licensing__review_queue') }}
),

decided as (
    select * from {{ ref('int_photos_decided') }}
),

sales as (
    select
        photo_id,
        min(sold_at) as first_sold_at
    from {{ ref('stg_marketplace__sales') }}
    group by photo_id
),

final as (
    select
        photos.photo_id,
        photos.owner_id,
        coalesce(photos.category, 'uncategorised') as category,
        date_trunc('week', photos.uploaded_at at time zone 'utc')::date as upload_week,
        photos.is_submitted_for_licensing or scores.photo_id is not null as is_submitted,
        scores.photo_id is not null as is_scanned,
        queue.photo_id is not null as is_queued,
        coalesce(scores.was_changes_required, false) as is_changes_required,
        decided.photo_id is not null as is_decided,
        coalesce(decided.decision = 'accepted', false) as is_accepted,
        sales.photo_id is not null as is_sold
    from photos
    left join scores on photos.photo_id = scores.photo_id
    left join queue on photos.photo_id = queue.photo_id
    left join decided on photos.photo_id = decided.photo_id
    left join sales on photos.photo_id = sales.photo_id
    where not photos.is_deleted
)

select * from final

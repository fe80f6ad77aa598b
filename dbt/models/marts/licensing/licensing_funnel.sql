-- The licensing funnel per upload week and category: uploaded, submitted, scanned, queued,
-- changes required, decided, accepted, sold.
with

funnel as (
    select * from {{ ref('int_photos_funnel_staged') }}
    where not is_deleted
),

final as (
    select
        upload_week || '/' || category as funnel_id,
        upload_week,
        category,
        count(*) as uploaded,
        count(*) filter (where is_submitted) as submitted,
        count(*) filter (where is_scanned) as scanned,
        count(*) filter (where is_queued) as queued,
        count(*) filter (where is_changes_required) as changes_required,
        count(*) filter (where is_decided) as decided,
        count(*) filter (where is_accepted) as accepted,
        count(*) filter (where is_sold) as sold
    from funnel
    group by upload_week, category
)

select * from final

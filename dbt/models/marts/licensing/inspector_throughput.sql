-- Inspectors' throughput per week: decisions, acceptance rate, time photos waited in the
-- queue before the decision.
with

queue as (
    select * from {{ ref('stg_licensing__review_queue') }}
),

decisions as (
    select * from {{ ref('stg_licensing__decisions') }}
),

joined as (
    select
        decisions.inspector_id,
        date_trunc('week', decisions.decided_at at time zone 'utc')::date as decision_week,
        decisions.decision,
        extract(epoch from decisions.decided_at - queue.enqueued_at) / 3600.0 as hours_in_queue
    from decisions
    left join queue on decisions.photo_id = queue.photo_id
),

final as (
    select
        inspector_id || '/' || decision_week as throughput_id,
        inspector_id,
        decision_week,
        count(*) as decisions,
        count(*) filter (where decision = 'accepted') as accepted,
        count(*) filter (where decision = 'rejected') as rejected,
        count(*) filter (where decision = 'changes_required') as changes_required,
        round(avg(hours_in_queue)::numeric, 2) as avg_hours_in_queue,
        round((percentile_cont(0.5) within group (order by hours_in_queue))::numeric, 2) as median_hours_in_queue
    from joined
    group by inspector_id, decision_week
)

select * from final

-- Matches by matching method, detected transform and outcome.
with

matches as (
    select * from {{ ref('stg_infringement__matches') }}
),

final as (
    select
        method || '/' || transform || '/' || status as matches_by_method_id,
        method,
        transform,
        status,
        count(*) as matches,
        round(avg(distance), 4) as avg_distance,
        max(distance) as max_distance
    from matches
    group by method, transform, status
)

select * from final

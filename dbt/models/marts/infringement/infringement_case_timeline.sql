-- Per case: first sighting of the copy, when the case opened, and the time between.
with

cases as (
    select * from {{ ref('stg_infringement__cases') }}
),

sightings as (
    select
        case_id,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        count(*) as matches
    from {{ ref('stg_infringement__matches') }}
    where case_id is not null
    group by case_id
),

final as (
    select
        cases.case_id,
        cases.photo_id,
        cases.infringer_domain,
        cases.status,
        sightings.first_seen_at,
        sightings.last_seen_at,
        cases.opened_at,
        coalesce(sightings.matches, 0) as matches,
        round((extract(epoch from cases.opened_at - sightings.first_seen_at) / 3600.0)::numeric, 2)
            as hours_first_seen_to_case
    from cases
    left join sightings on cases.case_id = sightings.case_id
)

select * from final

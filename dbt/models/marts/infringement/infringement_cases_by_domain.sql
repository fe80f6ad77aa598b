-- Cases per infringer domain, photographer country and status.
with

cases as (
    select * from {{ ref('stg_infringement__cases') }}
),

users as (
    select * from {{ ref('stg_marketplace__users') }}
),

final as (
    select
        cases.infringer_domain || '/' || coalesce(users.country, '??') || '/' || cases.status as cases_by_domain_id,
        cases.infringer_domain,
        coalesce(users.country, '??') as photographer_country,
        cases.status,
        count(*) as cases,
        count(distinct cases.photo_id) as photos,
        min(cases.opened_at) as first_opened_at,
        max(cases.opened_at) as last_opened_at
    from cases
    left join users on cases.owner_id = users.user_id
    group by 1, 2, 3, 4
)

select * from final

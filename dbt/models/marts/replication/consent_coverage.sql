-- Consent coverage per region: users with a current grant, photos they cover, and how many
-- of those photos the region holds.
with

consents as (
    select * from {{ ref('stg_marketplace__region_consents') }}
),

latest_user_level as (
    select distinct on (user_id, region)
        user_id,
        region,
        action
    from consents
    where not is_photo_level
    order by user_id asc, region asc, consented_at desc, event_id desc
),

granted_users as (
    select
        user_id,
        region
    from latest_user_level
    where action = 'grant'
),

photos as (
    select * from {{ ref('stg_marketplace__photos') }}
    where not is_deleted
),

inventory as (
    select * from {{ ref('stg_replication__inventory') }}
),

covered as (
    select
        granted_users.region,
        count(distinct granted_users.user_id) as users_with_grant,
        count(photos.photo_id) as photos_of_granting_users
    from granted_users
    left join photos on granted_users.user_id = photos.owner_id
    group by granted_users.region
),

held as (
    select
        region,
        count(*) as photos_held
    from inventory
    group by region
),

final as (
    select
        coalesce(covered.region, held.region) as region,
        coalesce(covered.users_with_grant, 0) as users_with_grant,
        coalesce(covered.photos_of_granting_users, 0) as photos_of_granting_users,
        coalesce(held.photos_held, 0) as photos_held
    from covered
    full outer join held on covered.region = held.region
)

select * from final

-- Every removal from a regional mirror with its reason, and the time from the event that
-- required it (revocation or deletion) to the removal.
with

audit as (
    select * from {{ ref('stg_replication__audit_log') }}
    where action = 'delete'
),

consents as (
    select * from {{ ref('stg_marketplace__region_consents') }}
    where action = 'revoke'
),

photos as (
    select
        photo_id,
        owner_id,
        deleted_at
    from {{ ref('stg_marketplace__photos') }}
),

users as (
    select
        user_id,
        deleted_at
    from {{ ref('stg_marketplace__users') }}
),

cause as (
    select
        audit.audit_id,
        audit.region,
        audit.photo_id,
        audit.reason,
        audit.changed_at as removed_at,
        case
            when audit.reason = 'photo_deleted' then photos.deleted_at
            when audit.reason = 'account_deleted' then users.deleted_at
            else (
                select max(consents.consented_at)
                from consents
                where
                    consents.region = audit.region
                    and consents.user_id = coalesce(audit.owner_id, photos.owner_id)
                    and (consents.photo_id is null or consents.photo_id = audit.photo_id)
                    and consents.consented_at <= audit.changed_at
            )
        end as required_at
    from audit
    left join photos on audit.photo_id = photos.photo_id
    left join users on coalesce(audit.owner_id, photos.owner_id) = users.user_id
),

final as (
    select
        audit_id,
        region,
        photo_id,
        reason,
        required_at,
        removed_at,
        round((extract(epoch from removed_at - required_at) / 3600.0)::numeric, 2) as hours_to_removal
    from cause
)

select * from final

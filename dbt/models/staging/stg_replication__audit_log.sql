with

source as (
    select * from {{ source('replication', 'audit_log') }}
),

final as (
    select
        audit_id,
        at as changed_at,
        run_id,
        region,
        photo_id,
        owner_id,
        action,
        reason,
        direction
    from source
)

select * from final

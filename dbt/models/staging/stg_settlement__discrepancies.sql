with

source as (
    select * from {{ source('settlement', 'discrepancies') }}
),

final as (
    select
        partner || '/' || report_id || '/' || line_id || '/' || kind || '/' || source_ref as discrepancy_id,
        partner,
        report_id,
        line_id,
        kind,
        detail,
        amount,
        currency,
        amount_usd
    from source
)

select * from final

with

source as (
    select * from {{ source('marketplace', 'settlement_reports') }}
),

final as (
    select
        partner || '/' || report_id || '/' || line_id as report_line_id,
        partner,
        report_id,
        line_id,
        case_ref,
        photo_id,
        infringer_domain,
        gross_amount,
        partner_fee,
        currency,
        collected_at
    from source
)

select * from final

with

source as (
    select * from {{ source('settlement', 'transactions') }}
),

final as (
    select
        txn_id,
        partner,
        report_id,
        line_id,
        kind,
        case_id,
        photographer_id,
        currency,
        gross_amount,
        partner_fee,
        photographer_amount,
        platform_amount,
        gross_usd,
        fee_usd,
        photographer_usd,
        platform_usd,
        photographer_share,
        collected_at,
        posted_at
    from source
)

select * from final

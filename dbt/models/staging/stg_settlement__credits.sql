with

source as (
    select * from {{ source('settlement', 'credits') }}
),

final as (
    select
        credit_id,
        photographer_id,
        case_id,
        amount,
        currency,
        amount_usd,
        credited_at,
        partner,
        report_id,
        line_id,
        txn_id
    from source
)

select * from final

with

source as (
    select * from {{ source('settlement', 'ledger') }}
),

final as (
    select
        entry_id,
        txn_id,
        account,
        amount,
        currency,
        amount_usd,
        posted_at,
        source as source_line
    from source
)

select * from final

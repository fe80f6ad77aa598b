-- The trial balance of the settlement ledger: per account and currency. Each currency's
-- balances net to zero (tested), since every transaction balances.
with

ledger as (
    select * from {{ ref('stg_settlement__ledger') }}
),

final as (
    select
        account || '/' || currency as balance_id,
        account,
        currency,
        count(*) as postings,
        sum(amount) as balance,
        sum(amount_usd) as balance_usd,
        max(posted_at) as last_posted_at
    from ledger
    group by account, currency
)

select * from final

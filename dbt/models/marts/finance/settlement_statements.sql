-- Settlement statement lines: per photographer, month and currency, what partners
-- collected, what they kept, the photographer's share and what was credited (also in USD).
with

transactions as (
    select * from {{ ref('stg_settlement__transactions') }}
),

credits as (
    select * from {{ ref('stg_settlement__credits') }}
),

credited as (
    select
        txn_id,
        amount as credited_amount,
        amount_usd as credited_usd
    from credits
),

final as (
    select
        transactions.photographer_id,
        date_trunc('month', transactions.posted_at at time zone 'utc')::date as statement_month,
        transactions.currency,
        count(*) as settlement_lines,
        sum(transactions.gross_amount) as gross_amount,
        sum(transactions.partner_fee) as partner_fees,
        sum(transactions.gross_amount - transactions.partner_fee) as net_amount,
        sum(transactions.photographer_amount) as photographer_share,
        sum(coalesce(credited.credited_amount, 0)) as credited_amount,
        sum(transactions.gross_usd) as gross_usd,
        sum(transactions.fee_usd) as partner_fees_usd,
        sum(transactions.photographer_usd) as photographer_share_usd,
        sum(coalesce(credited.credited_usd, 0)) as credited_usd
    from transactions
    left join credited on transactions.txn_id = credited.txn_id
    group by 1, 2, 3
)

select
    photographer_id || '/' || statement_month || '/' || currency as statement_line_id,
    *
from final

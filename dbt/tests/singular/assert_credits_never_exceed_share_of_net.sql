-- No credit exceeds the photographer's share of its line's net (gross minus partner fee).
with

credits as (
    select * from {{ ref('stg_settlement__credits') }}
),

transactions as (
    select * from {{ ref('stg_settlement__transactions') }}
)

select
    credits.credit_id,
    credits.amount,
    transactions.gross_amount - transactions.partner_fee as net_amount,
    transactions.photographer_share
from credits
inner join transactions on credits.txn_id = transactions.txn_id
where
    abs(credits.amount)
    > abs((transactions.gross_amount - transactions.partner_fee) * transactions.photographer_share) + 0.01

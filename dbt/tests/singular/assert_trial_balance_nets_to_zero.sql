-- Every currency's ledger balances net to zero: double entry holds.
select
    currency,
    sum(balance) as net
from {{ ref('ledger_trial_balance') }}
group by currency
having sum(balance) <> 0

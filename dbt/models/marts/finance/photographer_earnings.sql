-- What each photographer earned per month, in USD: licence sales of their photos and
-- settlement credits, side by side.
with

sales as (
    select
        photographer_id,
        date_trunc('month', sold_at at time zone 'utc')::date as earnings_month,
        sum(amount_usd) as sales_usd,
        count(*) as sales
    from {{ ref('sales_facts') }}
    where photographer_id is not null
    group by 1, 2
),

credits as (
    select
        photographer_id,
        date_trunc('month', credited_at at time zone 'utc')::date as earnings_month,
        sum(amount_usd) as settlements_usd,
        count(*) as settlement_credits
    from {{ ref('stg_settlement__credits') }}
    group by 1, 2
),

final as (
    select
        coalesce(sales.photographer_id, credits.photographer_id) as photographer_id,
        coalesce(sales.earnings_month, credits.earnings_month) as earnings_month,
        coalesce(sales.sales, 0) as sales,
        coalesce(sales.sales_usd, 0) as sales_usd,
        coalesce(credits.settlement_credits, 0) as settlement_credits,
        coalesce(credits.settlements_usd, 0) as settlements_usd,
        coalesce(sales.sales_usd, 0) + coalesce(credits.settlements_usd, 0) as total_usd
    from sales
    full outer join credits
        on sales.photographer_id = credits.photographer_id and sales.earnings_month = credits.earnings_month
)

select
    photographer_id || '/' || earnings_month as earnings_id,
    *
from final

-- What each case recovered: partner collections, fees, the photographer's and the
-- platform's shares, in USD.
with

cases as (
    select * from {{ ref('stg_infringement__cases') }}
),

transactions as (
    select * from {{ ref('stg_settlement__transactions') }}
),

recovered as (
    select
        case_id,
        count(*) as settlement_lines,
        sum(gross_usd) as gross_usd,
        sum(fee_usd) as partner_fees_usd,
        sum(photographer_usd) as photographer_share_usd,
        sum(platform_usd) as platform_share_usd
    from transactions
    group by case_id
),

final as (
    select
        cases.case_id,
        cases.photo_id,
        cases.owner_id as photographer_id,
        cases.infringer_domain,
        cases.status,
        coalesce(recovered.settlement_lines, 0) as settlement_lines,
        coalesce(recovered.gross_usd, 0) as gross_usd,
        coalesce(recovered.partner_fees_usd, 0) as partner_fees_usd,
        coalesce(recovered.photographer_share_usd, 0) as photographer_share_usd,
        coalesce(recovered.platform_share_usd, 0) as platform_share_usd
    from cases
    left join recovered on cases.case_id = recovered.case_id
)

select * from final

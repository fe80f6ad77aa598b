-- Per partner report: lines delivered, reconciled and credited, discrepancies, totals in USD.
with

report_lines as (
    select * from {{ ref('stg_marketplace__settlement_reports') }}
),

transactions as (
    select * from {{ ref('stg_settlement__transactions') }}
),

discrepancies as (
    select * from {{ ref('stg_settlement__discrepancies') }}
),

delivered as (
    select
        partner,
        report_id,
        count(*) as lines_delivered
    from report_lines
    group by 1, 2
),

reconciled as (
    select
        partner,
        report_id,
        count(*) as lines_credited,
        sum(gross_usd) as gross_usd,
        sum(fee_usd) as partner_fees_usd,
        sum(photographer_usd) as photographer_share_usd,
        sum(platform_usd) as platform_share_usd
    from transactions
    group by 1, 2
),

discrepant as (
    select
        partner,
        report_id,
        count(distinct line_id) as lines_with_discrepancies,
        count(*) as discrepancies
    from discrepancies
    group by 1, 2
),

final as (
    select
        coalesce(delivered.partner, discrepant.partner) || '/' || coalesce(delivered.report_id, discrepant.report_id)
            as partner_report_id,
        coalesce(delivered.partner, discrepant.partner) as partner,
        coalesce(delivered.report_id, discrepant.report_id) as report_id,
        coalesce(delivered.lines_delivered, 0) as lines_delivered,
        coalesce(reconciled.lines_credited, 0) as lines_credited,
        coalesce(discrepant.lines_with_discrepancies, 0) as lines_with_discrepancies,
        coalesce(discrepant.discrepancies, 0) as discrepancies,
        coalesce(reconciled.gross_usd, 0) as gross_usd,
        coalesce(reconciled.partner_fees_usd, 0) as partner_fees_usd,
        coalesce(reconciled.photographer_share_usd, 0) as photographer_share_usd,
        coalesce(reconciled.platform_share_usd, 0) as platform_share_usd
    from delivered
    full outer join discrepant
        on delivered.partner = discrepant.partner and delivered.report_id = discrepant.report_id
    left join reconciled
        on
            coalesce(delivered.partner, discrepant.partner) = reconciled.partner
            and coalesce(delivered.report_id, discrepant.report_id) = reconciled.report_id
)

select * from final

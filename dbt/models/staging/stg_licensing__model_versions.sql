with

source as (
    select * from {{ source('licensing', 'model_versions') }}
),

final as (
    select
        version as model_version,
        trained_at,
        is_champion,
        (metrics ->> 'roc_auc')::numeric as roc_auc
    from source
)

select * from final

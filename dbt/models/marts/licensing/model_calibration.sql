-- Calibration of the AI scan over time: per model version and score band, the predicted
-- acceptance against the inspectors' decided acceptance.
with

scores as (
    select * from {{ ref('stg_licensing__scores') }}
),

decided as (
    select * from {{ ref('int_photos_decided') }}
    where decision in ('accepted', 'rejected')
),

banded as (
    select
        scores.model_version,
        least(floor(scores.p_suitable * 10), 9)::int as score_band,
        scores.p_suitable,
        decided.decision = 'accepted' as is_accepted
    from scores
    inner join decided on scores.photo_id = decided.photo_id
),

final as (
    select
        model_version || '/' || score_band as calibration_id,
        model_version,
        score_band,
        score_band / 10.0 as band_low,
        (score_band + 1) / 10.0 as band_high,
        count(*) as decided_photos,
        round(avg(p_suitable), 4) as mean_predicted,
        round(avg(case when is_accepted then 1.0 else 0.0 end), 4) as observed_acceptance
    from banded
    group by model_version, score_band
)

select * from final

-- spark_usage: the canonical usage rows as the Spark scans read them (grain: one row per input row of
-- the days being rebuilt). Runs on Spark (portable subset). usage_input is the lake mapped onto the usage
-- columns (planner.spark binds it); model_ref is what the price stage resolved (price_fill_model_ref
-- does the same to local rows); the class is the detect stage's (__CLASS__, __SOURCE__, __THIRD_PARTY__
-- are planner.sensitivity.class_sql over the same columns), the input's own label kept aside.
with
refs as (
    select
        u.* exclude (model_ref, sensitivity),
        case when m.needs_update then m.model_ref else u.model_ref end as model_ref,
        u.sensitivity as sensitivity_declared
    from usage_input as u
    left join price_models as m
        on m.provider is not distinct from u.provider
        and m.model is not distinct from u.model
),

final as (
    select
        *,
        __CLASS__ as sensitivity,
        __SOURCE__ as sensitivity_source,
        __THIRD_PARTY__ as allow_third_party,
        $policy as sensitivity_policy
    from refs
)

select * from final

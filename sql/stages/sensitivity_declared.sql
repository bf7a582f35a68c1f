-- sensitivity_declared: a class the source itself stated is kept aside the first time the detect stage
-- sees the row (sensitivity_policy still NULL), so later runs can recompute the class from it.
update usage
set sensitivity_declared = sensitivity
where
    sensitivity_policy is null
    and sensitivity is not null
    and sensitivity_declared is null

-- sensitivity_apply: the class of every row the current policy has not decided yet (new rows, or all
-- rows after a policy change). Order: [[sensitivity.rules]] (first match) > the source's own label >
-- detection (regulated entity > confidential entity > clean) > sensitivity.default.
-- __CLASS__, __SOURCE__ and __THIRD_PARTY__ are built from planner.toml by planner.sensitivity.class_sql.
update usage
set
    sensitivity = __CLASS__,
    sensitivity_source = __SOURCE__,
    allow_third_party = __THIRD_PARTY__,
    sensitivity_policy = $policy
where sensitivity_policy is distinct from $policy

-- charges_replace: stored lines whose re-exported copy differs (a period that was still open when first
-- exported, a late correction of a bucket) are removed; the incoming copy replaces them.
delete from charges
where charge_id in (
    select i.charge_id
    from _charges_incoming as i
    inner join charges as c on c.charge_id = i.charge_id
    where
        struct_pack(
            i.period_end, i.billed_cost, i.effective_cost, i.list_cost, i.currency, i.source_quantity,
            i.source_unit, i.consumed_quantity, i.consumed_unit, i.description, i.model, i.token_type,
            i.is_llm_tokens, i.service_tier, i.charge_category, i.charge_class, i.tags
        ) is distinct from struct_pack(
            c.period_end, c.billed_cost, c.effective_cost, c.list_cost, c.currency, c.source_quantity,
            c.source_unit, c.consumed_quantity, c.consumed_unit, c.description, c.model, c.token_type,
            c.is_llm_tokens, c.service_tier, c.charge_category, c.charge_class, c.tags
        )
)

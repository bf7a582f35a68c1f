-- 0002_charges_lines: what billed line items carry besides the DESIGN §4 columns (adapters: OpenAI costs,
-- Anthropic cost report, FOCUS). consumed_quantity/consumed_unit hold tokens for token lines (converted
-- from `1K Tokens`, `1M tokens`, `1000_tokens`); the quantity and unit as the file wrote them stay in
-- source_quantity/source_unit.
alter table charges add column api_key_id varchar;         -- OpenAI costs group_by=api_key_id
alter table charges add column charge_class varchar;       -- FOCUS ChargeClass (`Correction` or NULL)
alter table charges add column sub_account_id varchar;     -- FOCUS SubAccountId (AWS account, Azure subscription, GCP project)
alter table charges add column sub_account_name varchar;
alter table charges add column region varchar;             -- FOCUS RegionId
alter table charges add column resource_id varchar;        -- FOCUS ResourceId (deployment, inference profile, ...)
alter table charges add column source_quantity decimal(38, 10);  -- the quantity as written (ConsumedQuantity, quantity)
alter table charges add column source_unit varchar;        -- its unit as written (ConsumedUnit, quantity_unit)

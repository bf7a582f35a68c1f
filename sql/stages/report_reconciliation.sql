-- report_reconciliation: priced vs billed cost, as the pricing stage's view has it.
select * from v_reconciliation order by all

-- charges_insert: incoming lines not stored yet (new, or replaced just before). Returns the number inserted.
insert into charges by name
select i.*
from _charges_incoming as i
where not exists (select 1 from charges as c where c.charge_id = i.charge_id)

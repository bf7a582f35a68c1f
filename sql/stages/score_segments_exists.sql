-- score_segments_exists: has the segmentation stage created its table yet?
select count(*) > 0 as present
from information_schema.tables
where table_name = 'segments'

-- report_sources: the files behind the figures.
select path, format, status, rows_read, rows_loaded, rows_rejected, rows_duplicate
from sources
order by path, source_id

-- score_delete: a re-scored run replaces its own rows only.
delete from segment_options where run_id = $run_id;
delete from segment_scores where run_id = $run_id;

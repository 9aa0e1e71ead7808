-- The planned settings' live rows (psql variable :names, comma-separated), as one JSON object.
-- later_file: a file read after postgresql.auto.conf that sets the name (its value would win).
WITH auto AS (
  SELECT min(seqno) AS first_seqno FROM pg_file_settings
  WHERE sourcefile = current_setting('data_directory') || '/postgresql.auto.conf'
)
SELECT json_build_object(
  'data_directory', current_setting('data_directory'),
  'auto_conf', current_setting('data_directory') || '/postgresql.auto.conf',
  'settings', coalesce((
    SELECT json_object_agg(s.name, json_build_object(
      'setting', s.setting, 'unit', s.unit, 'vartype', s.vartype, 'min_val', s.min_val,
      'max_val', s.max_val, 'enumvals', s.enumvals, 'context', s.context, 'source', s.source,
      'sourcefile', s.sourcefile, 'pending_restart', s.pending_restart,
      'later_file', (SELECT f.sourcefile FROM pg_file_settings f, auto
                     WHERE f.name = s.name AND f.seqno > auto.first_seqno
                       AND f.sourcefile <> current_setting('data_directory') || '/postgresql.auto.conf'
                     ORDER BY f.seqno DESC LIMIT 1)))
    FROM pg_settings s WHERE s.name = ANY (string_to_array(:'names', ','))), '{}'::json));

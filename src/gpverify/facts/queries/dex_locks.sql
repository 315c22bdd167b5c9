-- Record locks held by GP sessions (tempdb DEX_LOCK; KB 850289, KB 864411).
SELECT session_id, row_id, RTRIM(table_path_name) AS table_path_name FROM tempdb..DEX_LOCK

-- Whether the login the checks use holds VIEW SERVER STATE, without which sys.dm_exec_sessions shows only its own
-- session (https://learn.microsoft.com/sql/relational-databases/system-dynamic-management-views/sys-dm-exec-sessions-transact-sql).
SELECT HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE') AS granted

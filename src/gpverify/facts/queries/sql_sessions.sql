-- The SQL Server sessions that exist now (sys.dm_exec_sessions; a login without VIEW SERVER STATE sees only its
-- own). A GP client's session is DEX_SESSION.sqlsvr_spid, as GP's own dbo.GetGPUserIDbySPID reads it: a client that
-- ended without signing out leaves its ACTIVITY and DEX_SESSION rows, but its SQL session is gone.
SELECT session_id FROM sys.dm_exec_sessions

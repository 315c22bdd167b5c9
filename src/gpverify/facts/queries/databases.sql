-- The databases on the server and their state (SQL Server catalog view sys.databases).
SELECT name, state_desc, user_access_desc, is_read_only, compatibility_level FROM sys.databases

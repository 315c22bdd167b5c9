-- A server login by name (sys.server_principals; seeing other logins than one's own needs VIEW ANY DEFINITION
-- or ALTER ANY LOGIN).
SELECT name, type_desc FROM sys.server_principals WHERE name = ?

-- The user of the connected database mapped to a login, matched by SID as SQL Server maps them (a user restored
-- from another server keeps its name but not the login's SID: an orphaned user, which this does not list).
SELECT dp.name AS user_name, sp.name AS login_name
FROM sys.database_principals AS dp
JOIN sys.server_principals AS sp ON dp.sid = sp.sid
WHERE sp.name = ?

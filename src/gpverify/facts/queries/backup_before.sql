-- A database's last full backup finished before a time (msdb.dbo.backupset, type 'D'; copy-only ones count), per
-- time zone: GP-PRE-014 asks for the one before Dynamics GP Utilities started upgrading the database
-- (DB_Upgrade.start_time), the last rollback point of the GP upgrade (upgrade/system-preparation.md, Backups).
SELECT database_name, time_zone, MAX(backup_finish_date) AS last_full
FROM msdb.dbo.backupset
WHERE type = 'D' AND database_name = ? AND backup_finish_date < ?
GROUP BY database_name, time_zone

-- The last full backup of each database, per time zone (msdb.dbo.backupset: type 'D' is a full database backup;
-- copy-only backups count, they are complete backups). backup_finish_date is the server's local time and
-- time_zone its offset from UTC in 15-minute intervals (127: unknown), so the caller compares in UTC.
-- upgrade/system-preparation.md: make at least one complete backup of all your databases before upgrading.
SELECT database_name, time_zone, MAX(backup_finish_date) AS last_full
FROM msdb.dbo.backupset
WHERE type = 'D'
GROUP BY database_name, time_zone

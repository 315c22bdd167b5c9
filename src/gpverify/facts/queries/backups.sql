-- The last full backup of each database finished since a time (msdb.dbo.backupset: type 'D' is a full database
-- backup; copy-only backups count, they are complete backups). upgrade/system-preparation.md: make at least one
-- complete backup before the upgrade.
SELECT database_name, MAX(backup_finish_date) AS last_full
FROM msdb.dbo.backupset
WHERE type = 'D' AND backup_finish_date >= ?
GROUP BY database_name

-- SQL Server's version, e.g. 15.0.4355.3 (SERVERPROPERTY('ProductVersion'): major.minor.build.revision).
SELECT CAST(SERVERPROPERTY('ProductVersion') AS NVARCHAR(128)) AS product_version

-- GP version of the system and company databases for one product (PRODID 0 = Dynamics GP itself; S23, S41).
SELECT RTRIM(db_name) AS db_name, PRODID, db_verMajor, db_verMinor, db_verBuild, db_status
FROM DB_Upgrade WHERE PRODID = ?

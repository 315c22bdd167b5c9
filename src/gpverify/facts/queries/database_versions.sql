-- Every DB_Upgrade row: each product (PRODID 0 is Dynamics GP, others are its modules and third-party products)
-- in the system and every company database (company-data-conversion.md; KB 973027, KB 850662), and when GP Utilities
-- started and stopped upgrading it (start_time, stop_time: KB 920900's column list).
SELECT RTRIM(db_name) AS db_name, PRODID, db_verMajor, db_verMinor, db_verBuild, db_verOldMajor, db_verOldMinor,
       db_verOldBuild, db_status, start_time
FROM DB_Upgrade

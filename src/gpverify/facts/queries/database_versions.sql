-- Every DB_Upgrade row: each product (PRODID 0 is Dynamics GP, others are its modules and third-party products)
-- in the system and every company database (company-data-conversion.md; KB 973027, KB 850662).
SELECT RTRIM(db_name) AS db_name, PRODID, db_verMajor, db_verMinor, db_verBuild, db_verOldMajor, db_verOldMinor,
       db_verOldBuild, db_status
FROM DB_Upgrade

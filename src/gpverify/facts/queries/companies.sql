-- Company master: each company's database is its INTERID (upgrade/company-data-conversion.md).
SELECT CMPANYID, RTRIM(CMPNYNAM) AS CMPNYNAM, RTRIM(INTERID) AS INTERID FROM SY01500 ORDER BY CMPANYID

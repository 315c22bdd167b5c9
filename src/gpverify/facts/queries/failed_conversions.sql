-- The upgrade guide's "if errors do occur" query (upgrade/company-data-conversion.md): the table conversions to
-- review. Rows with errornum <> 0 failed; the page says other warnings (temporary tables, unused modules) can be
-- ignored, so the checks tell the two apart.
SELECT RTRIM(c.INTERID) AS INTERID, a.PRODID, a.fileNumber, RTRIM(b.fileOSName) AS fileOSName, a.Status, a.errornum,
       RTRIM(a.errordes) AS errordes
FROM DU000030 a
JOIN DU000010 b ON a.fileNumber = b.fileNumber AND a.PRODID = b.PRODID
JOIN SY01500 c ON a.companyID = c.CMPANYID
WHERE (a.Status <> 0 OR a.errornum <> 0) AND a.Status <> 15

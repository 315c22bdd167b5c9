-- Version of each company per product as GP Utilities records it (DU000020; KB 850662).
SELECT companyID, PRODID, versionMajor, versionMinor, versionBuild FROM DU000020 WHERE PRODID = ?

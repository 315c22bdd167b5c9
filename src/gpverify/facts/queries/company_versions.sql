-- The version GP Utilities records for each company and product (DU000020; KB 850662).
SELECT companyID, PRODID, versionMajor, versionMinor, versionBuild FROM DU000020

update DYNAMICS..DU000020 
set versionMajor = VERSIONMAJOR, versionMinor = VERSIONMINOR
where companyID = COMPANYID

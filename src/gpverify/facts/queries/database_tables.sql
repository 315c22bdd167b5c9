-- The tables of a database (INFORMATION_SCHEMA.TABLES): the Web Components Configuration Wizard creates the
-- configuration database's tables ("Create the Web Components database", tenant-services-installation.md), whose
-- names are not public, so only that there are any is judged.
SELECT TABLE_SCHEMA, TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_TYPE = 'BASE TABLE'

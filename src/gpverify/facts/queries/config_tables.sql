-- Every base table of the web components configuration database, for `gpverify discover`: its real schema is
-- not public (gp-facts.md Unknowns 2), so an admin picks the session host / session tables from this list.
SELECT TABLE_SCHEMA, TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_TYPE = 'BASE TABLE'

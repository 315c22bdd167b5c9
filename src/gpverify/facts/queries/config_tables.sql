-- Every column of every table of a web components session database, for `gpverify discover`: its schema is not
-- public, so the operator picks the config_db.* tables and columns from this list.
SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS

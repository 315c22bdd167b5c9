-- Session hosts registered in the web components configuration database. The table name comes from the
-- profile (sql.config_session_hosts_table) because GP's real schema is not public (gp-facts.md Unknowns 2).
SELECT RTRIM(HostName) AS HostName, Suspended FROM {session_hosts}

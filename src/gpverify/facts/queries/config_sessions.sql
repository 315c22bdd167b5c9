-- Web client sessions recorded in the configuration database (profile sql.config_sessions_table).
SELECT RTRIM(SessionId) AS SessionId, RTRIM(HostName) AS HostName, RTRIM(UserId) AS UserId FROM {sessions}

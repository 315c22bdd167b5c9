-- Web client sessions recorded in the configuration database (names from the profile's config_db.* identifiers).
SELECT {session_id} AS SessionId, {session_host} AS HostName, {session_user} AS UserId FROM {sessions}

-- Web client sessions in the GP 2013-era session database before it is migrated (names from old_session_db.*).
SELECT {old_session_id} AS SessionId, {old_session_user} AS UserId FROM {old_sessions}

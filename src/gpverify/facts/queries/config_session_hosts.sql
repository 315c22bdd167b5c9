-- Session hosts registered in the web components configuration database. Its tables and columns are not public:
-- every name comes from the profile's config_db.* identifiers, which the operator sets after `gpverify discover`.
SELECT {host_name} AS HostName, {suspended} AS Suspended, {status_time} AS LastStatusUpdate FROM {session_hosts}

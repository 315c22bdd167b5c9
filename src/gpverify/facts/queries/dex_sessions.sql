-- GP SQL sessions (tempdb DEX_SESSION; KB 850289, KB 864413).
SELECT session_id, sqlsvr_spid FROM tempdb..DEX_SESSION

"""gpverify checks: the shipped checks by phase (pre, web, hosts, post, clients), as gpverify.checks when installed."""

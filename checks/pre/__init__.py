"""gpverify checks: pre."""

"""gpverify checks: web."""

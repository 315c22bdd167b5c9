"""gpverify checks: hosts."""

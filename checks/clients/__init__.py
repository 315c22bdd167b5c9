"""gpverify checks: clients."""

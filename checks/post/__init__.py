"""gpverify checks: post."""

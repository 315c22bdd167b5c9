"""Suite-local fixtures for the checks; the gpverify plugin itself comes from its pytest11 entry point."""

pytest_plugins = ["fixtures.hosts", "fixtures.sql", "fixtures.web"]

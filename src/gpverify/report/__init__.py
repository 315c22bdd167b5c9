"""Every page and document gpverify writes: HTML through one Jinja2 environment (one escaping), PDF and JSON."""

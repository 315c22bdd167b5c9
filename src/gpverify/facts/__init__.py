"""Facts: what the checks judge, gathered once per run from hosts and databases."""

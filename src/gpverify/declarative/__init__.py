"""Checks an administrator writes in YAML, without Python: their format, the facts they ask for, their verdicts."""

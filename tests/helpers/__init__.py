"""Helpers shared by the suite's tests (imported as `helpers.<module>`; conftest.py files only declare fixtures)."""

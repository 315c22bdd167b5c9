"""Shared test harness: pytester, and the run_checks fixture (tests/helpers/checks.py)."""

from __future__ import annotations

import requests  # noqa: F401 - see below
import sqlalchemy.dialects.postgresql  # noqa: F401 - see below
import sqlglot.dialects.tsql  # noqa: F401 - see below

import gpverify.transport.ntlm  # noqa: F401 - see below
from helpers.checks import run_checks  # noqa: F401 - a fixture for every test

# gpverify imports SQLAlchemy's PostgreSQL dialect only when a history needs it; pytester's in-process runs then
# drop it from sys.modules afterwards, and its next import re-registers its SQL functions (an SAWarning each).
# Imported here once, it is part of what pytester keeps. The same for sqlglot's T-SQL dialect, which the SQL guard
# loads by name: dropped from sys.modules by one pytester run, the next finds its registry without it. And the
# NTLM hashes' module (cryptography's TripleDES): imported afresh by a later run, OpenSSL then refuses 3DES (ECB), so
# a test file run alone failed from its second lab run on. And requests (with http.cookiejar): a check run no longer
# imports it (the web probe uses urllib), so apprise's first import of it fell inside a pytester run; re-imported
# afterwards, its cookie jars were no longer the CookieJar it checks ("You can only merge into CookieJar").

pytest_plugins = ["pytester"]

# A site's custom checks, run by tests/examples/test_custom_checks.py against the lab; not the suite's tests.
collect_ignore = ["examples/custom_checks"]

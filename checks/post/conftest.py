"""Post-upgrade fixtures: the inventory's session host names (without reading the hosts) and Session Management."""

from __future__ import annotations

import pytest

from fixtures.hosts import host_params
from gpverify.facts import configdb
from gpverify.facts.gpsql import GpSqlView
from gpverify.plugin import get_farm


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per inventory session host, named in the test id; `--host` limits it as for session_host.

    The Session Management checks read only the configuration database, so they take the host's name rather
    than the `session_host` fixture, which would contact the host over WinRM.
    """
    if "session_host_name" in metafunc.fixturenames:
        names = host_params(metafunc.config, "session_host")
        metafunc.parametrize("session_host_name", names, ids=names)


@pytest.fixture
def session_management(gp_sql: GpSqlView) -> list[configdb.SessionHostEntry]:
    """The session hosts listed in the configuration database (the Session Management snap-in's list)."""
    return configdb.session_hosts(gp_sql)


@pytest.fixture
def farm_session_hosts(request: pytest.FixtureRequest) -> list[str]:
    """Every session host of the inventory (not limited by --host)."""
    return [s.name for s in get_farm(request.config).hosts("session_host")]

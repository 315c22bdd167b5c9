"""The second expert review's corrections (issue 21), each run on the published text it rests on: the profiles'
SQL Server minimums and compatibility levels, the runner's steps the guide names, the judgements that became advice.
A wrong profile value or a plan without the step fails here."""

from __future__ import annotations

import importlib
import re
from types import SimpleNamespace

from realworld_corpus import host, outcome, shown_lines, text, unescape, uses

from gpverify.config.inventory import SqlSettings
from gpverify.config.profiles import available, load_profile
from gpverify.facts.gpsql import DatabaseState
from gpverify.runner.plan import RUNTIME_PATHS_STEP, FarmShape, builtin_plan

KB_878449 = "kb878449-sql-server-versions.md"
# SQL Server's own major version numbers (not a GP source): 2008 R2 is 10.50, 2012 is 11, 2014 is 12, 2016 is 13.
SQL_MAJOR = {"2008 R2": (10, 50), "2012": (11, 0), "2014": (12, 0), "2016": (13, 0), "2017": (14, 0), "2019": (15, 0)}
GP_LINE = {"gp2013r2": 2013, "gp2015r2": 2015, "gp2016r2": 2016}  # every other profile is GP 2018 and its 18.x
GP_18 = 2018  # "applies to GP and higher": the note's name for the 18.x line, which dropped the year


def check(module: str, name: str) -> object:
    return getattr(importlib.import_module(f"gpverify.checks.{module}"), name)


def _applies(scope: str, release: int) -> bool:
    """Whether KB 878449's '(applies to ...)' covers a GP line (2013, 2015, 2016, or 2018 for 'GP' without a year)."""
    years = [int(y) for y in re.findall(r"GP (\d{4})", scope)]
    if "and higher" in scope:
        return release >= (years[0] if years else GP_18)
    return release in years


def _oldest_sql_server(release: int) -> tuple[int, int]:
    note = unescape(shown_lines(KB_878449)[0])
    listed = re.findall(r"Microsoft SQL Server (2008 R2|\d{4})(?: SP1 or later)? \(applies ?(?:to )?([^)]*)\)", note)
    assert len(listed) == 5, listed
    return min(SQL_MAJOR[version] for version, scope in listed if _applies(scope, release))


@uses(KB_878449)
def test_each_profiles_sql_server_minimum_is_kb_878449s() -> None:
    for name in available():
        minimum = str(load_profile(name)["sql_server.min_version"])
        major, minor = (int(p) for p in minimum.split(".")[:2])
        assert (major, minor) == _oldest_sql_server(GP_LINE.get(name, GP_18)), (name, minimum)
    # "SQL Server 2008 R2 SP1 or later": the service pack is part of the minimum for GP 2013.
    assert "SP1 or later (applies to GP 2013)" in text(KB_878449)
    assert load_profile("gp2013r2")["sql_server.min_version"] == "10.50.2500"


class _Sql:
    def __init__(self, version: str, level: int) -> None:
        self._version, self._level = version, level

    def server_version(self) -> str:
        return self._version

    def databases(self) -> dict[str, DatabaseState]:
        return {"DYNAMICS": DatabaseState("DYNAMICS", "ONLINE", "MULTI_USER", False, self._level)}

    def gp_databases(self) -> list[str]:
        return ["DYNAMICS"]

    def missing_company_databases(self) -> list[object]:
        return []


@uses(KB_878449)
def test_gp_pre_016_refuses_sql_server_2012_for_gp_18_and_admits_it_for_gp_2016() -> None:
    judge = check("pre.test_pre_sql_server", "test_sql_server_version_and_compatibility")
    verdict, message = outcome(judge, _Sql("11.0.7001.0", 120), SimpleNamespace(profile=load_profile("gp18.4")))
    assert verdict == "failed" and "expected 12.0 or later" in message, message
    assert outcome(judge, _Sql("11.0.7001.0", 110), SimpleNamespace(profile=load_profile("gp2016r2")))[0] == "passed"


@uses("system-preparation-compatibility-levels.md")
def test_the_compatibility_levels_are_the_ones_the_guide_prescribes() -> None:
    prescribed = {
        str(SQL_MAJOR[version][0]): int(level)
        for version, level in re.findall(
            r"select SQL Server|compatibility level to SQL Server (\d{4}) \((\d{3})\)",
            text("system-preparation-compatibility-levels.md"),
        )
        if version
    }
    assert prescribed == {"11": 110, "12": 120, "13": 120}
    for name in available():
        assert load_profile(name)["sql_server.compatibility_levels"] == prescribed, name


@uses("scale-out-upgrade-desktop-client-later.md")
def test_a_session_hosts_desktop_client_is_advice_before_its_own_step_and_required_at_it() -> None:
    step = shown_lines("scale-out-upgrade-desktop-client-later.md")[0]
    first, second = (s.strip() + "." for s in step.split(". ", 2)[1:3])
    assert first.startswith("If you haven’t already done so")
    title = check("hosts.test_session_host_upgrade", "test_host_desktop_client_works")
    info = next(m.args[0] for m in title.pytestmark if m.name == "check")  # type: ignore[attr-defined]
    assert info.title.startswith(second.rstrip("."))
    # At the pre gate the same problem on a session host is a warning that quotes the step.
    judge = check("pre.test_pre_desktop_client", "test_desktop_client_matches_databases")
    files = [
        {"path": r"C:\Program Files (x86)\Microsoft Dynamics\GP\Dynamics.exe", "exists": True, "version": "18.3.1173.0"}
    ]
    sql = SimpleNamespace(
        system_database="DYNAMICS",
        database_versions=lambda: [SimpleNamespace(product=0, database="DYNAMICS", version="18.4.1361")],
    )
    farm = SimpleNamespace(inventory=SimpleNamespace(web_components_only=False))
    verdict, message = outcome(judge, host("gp-sh02", file_search={"dynamics_exe": files}), sql, farm)
    assert verdict == "warning" and "If you haven't already done so" in message and "GP-HOST-012" in message


@uses("scale-out-upgrade-installer-defaults.md", "sba-gp-configuration-window.md")
def test_the_runner_leaves_the_runtime_paths_to_the_operator_at_the_web_server() -> None:
    """The upgrade 'will default with the selections from the installation being upgraded' and the three paths
    'must be valid': the operator points them at the new release, so the runner says so at that step."""
    assert "default with the selections from the installation being upgraded" in text(
        "scale-out-upgrade-installer-defaults.md"
    )
    assert "The three paths for the Dynamics GP runtime folder, the Dynamics.set and the Dex.ini must be valid." in [
        line.strip() for line in shown_lines("sba-gp-configuration-window.md")
    ]
    assert "must be valid" in RUNTIME_PATHS_STEP and "GP Configuration window" in RUNTIME_PATHS_STEP
    shape = FarmShape({"gp-web01": "web_server", "gp-sh01": "session_host"}, "html")
    for lab in (False, True):
        web = next(p for p in builtin_plan(shape, lab=lab).phases if p.phase == "web")
        assert any(RUNTIME_PATHS_STEP in s.instructions for s in web.steps), lab
    assert SqlSettings(server="s").config_database == re.search(
        r"defaulting to (\w+)\.", text("scale-out-upgrade-installer-defaults.md")
    ).group(1)  # type: ignore[union-attr]


@uses("scale-out-installation-restart-session-central.md")
def test_the_runner_restarts_session_central_after_the_last_session_host() -> None:
    assert "Restart the Session Central Service" in text("scale-out-installation-restart-session-central.md")
    shape = FarmShape({"gp-web01": "web_server", "gp-sh01": "session_host", "gp-sh02": "session_host"}, "html")
    for lab in (False, True):
        order = [i.id for i in builtin_plan(shape, lab=lab).items()]
        restart = order.index("restart-session-central-gp-web01")
        assert order.index("gate-hosts-gp-sh02") < restart < order.index("gate-post"), order


@uses("scale-out-installation-sign-in.md")
def test_the_sign_in_page_is_the_web_client_url_gpverify_probes() -> None:
    url = next(
        unescape(line).strip("`") for line in shown_lines("scale-out-installation-sign-in.md") if line.startswith("`")
    )
    assert url == "https://ServerName:PortNumber/GP"
    assert all(url.endswith(str(load_profile(name)["web.client_path"])) for name in available())
    judge = check("clients.test_sign_in_page", "test_sign_in_page_answers")
    info = next(m.args[0] for m in judge.pytestmark if m.name == "check")  # type: ignore[attr-defined]
    assert "https://<FQDN>/GP" in info.title and "does not sign in" in info.title


@uses("tenant-services-basics-single-tenant-file.md")
def test_gp_pre_019_fails_a_single_tenant_farm_without_the_file() -> None:
    """'In a single tenant environment where Tenant Services are not installed, you will find a file named
    TenantConfiguration.xml': without Tenant Services its absence fails; with them, not verified."""
    assert text("tenant-services-basics-single-tenant-file.md").startswith(
        "In a single tenant environment where Tenant Services are not installed"
    )
    judge = check("pre.test_pre_session_timeout", "test_disconnected_sessions_time_out")
    web = host("gp-web01", texts={"tenant_configuration": {"path": "TenantConfiguration.xml", "exists": False}})
    single = SimpleNamespace(inventory=SimpleNamespace(tenant_services=None))
    multi = SimpleNamespace(inventory=SimpleNamespace(tenant_services=True))
    assert outcome(judge, web, single)[0] == "failed"
    assert outcome(judge, web, multi)[0] == "not verified"


@uses("system-preparation-backups.md")
def test_the_backup_gp_pre_014_asks_for_is_the_one_before_the_upgrade() -> None:
    assert "at least one complete backup of all your databases before upgrading" in text(
        "system-preparation-backups.md"
    )
    judge = check("pre.test_pre_sql_server", "test_full_backups_since_the_upgrade_started")
    info = next(m.args[0] for m in judge.pytestmark if m.name == "check")  # type: ignore[attr-defined]
    assert info.title.startswith("You should make at least one complete backup of all your databases before upgrading")
    assert "before it started" in info.title
    order = [i.id for i in builtin_plan(FarmShape({"gp-web01": "web_server"}, "html"), lab=False).items()]
    assert order[:3] == ["backup-databases", "gp-utilities", "gate-pre"]

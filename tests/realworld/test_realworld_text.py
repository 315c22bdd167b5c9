"""What GP and its docs say in words (error messages, service names, commands, requirements) against what
gpverify quotes, matches and judges: the check catalogue's quotations, the profiles' names, the runner's
commands, and the judgements of GP-PRE-006, GP-PRE-016 and GP-POST-012."""

from __future__ import annotations

import importlib
import pkgutil
import re
from fnmatch import fnmatchcase
from functools import cache
from types import SimpleNamespace

import pytest
import sqlglot
from realworld_corpus import like, outcome, shown_lines, text, unescape, uses
from sqlglot import exp

import gpverify.checks
from gpverify.catalogue import CheckInfo
from gpverify.config.profiles import available, load_profile
from gpverify.facts.gpsql import DatabaseState, load_query
from gpverify.facts.web import HttpAnswer
from gpverify.facts.windows import COLLECTOR_SCRIPT, release_pattern
from gpverify.runner.plan import FarmShape, builtin_plan

ISSUE = "issue 21"


@cache
def catalogue() -> dict[str, tuple[CheckInfo, object]]:
    """Every shipped check by ID, with its function, read from the check modules' markers (nothing run)."""
    found: dict[str, tuple[CheckInfo, object]] = {}
    for module in pkgutil.walk_packages(gpverify.checks.__path__, "gpverify.checks."):
        loaded = importlib.import_module(module.name)
        for name in dir(loaded):
            function = getattr(loaded, name)
            for mark in getattr(function, "pytestmark", []):
                if mark.name == "check" and mark.args and isinstance(mark.args[0], CheckInfo):
                    found.setdefault(mark.args[0].id, (mark.args[0], function))
    return found


def info(check_id: str) -> CheckInfo:
    return catalogue()[check_id][0]


def function(check_id: str) -> object:
    return catalogue()[check_id][1]


# --- error messages ---------------------------------------------------------------------------------------------

QUOTED = re.compile(r"'([^']{20,})'")


@uses("kb920831-login-version-error.txt", "kb915897-login-version-error.txt")
def test_the_login_error_gpverify_quotes_is_microsofts_wording() -> None:
    """GP-PRE-002 quotes the login error and cites KB 920831 and KB 915897: the quotation is in one of them."""
    remediation = info("GP-PRE-002").remediation
    assert "KB 920831" in remediation and "KB 915897" in remediation
    quotes = QUOTED.findall(remediation)
    messages = [text("kb920831-login-version-error.txt"), text("kb915897-login-version-error.txt")]
    assert quotes, remediation
    for quote in quotes:
        assert any(quote in message for message in messages), quote
    # The two KBs word the same error differently; the quotation is 920831's ("installed on your computer").
    assert quotes[0] in messages[0] and quotes[0] not in messages[1]


@uses("kb865801-login-unknown-error.txt")
def test_the_tables_whose_absence_stops_every_login_are_the_ones_gp_pre_008_reads() -> None:
    """KB 865801: 'Your attempt to log into the server failed because of an unknown error' means tempdb has no
    DEX_LOCK and DEX_SESSION; gpverify reads exactly those two tempdb tables."""
    assert text("kb865801-login-unknown-error.txt").startswith("Your attempt to log into the server failed")
    for query, table in (("dex_locks", "DEX_LOCK"), ("dex_sessions", "DEX_SESSION")):
        (found,) = sqlglot.parse_one(load_query(query), read="tsql").find_all(exp.Table)
        assert (found.catalog.lower(), found.name.upper()) == ("tempdb", table)


@uses("wmc-http-500-21-error.txt")
def test_an_iis_500_21_is_a_page_that_does_not_answer() -> None:
    first = text("wmc-http-500-21-error.txt").splitlines()[0]
    status = int(re.match(r"HTTP Error (\d{3})\.\d+", first).group(1))  # type: ignore[union-attr]
    answer = HttpAnswer(
        "https://gp-web01.contoso.com/WebManagementConsole", status, "https://gp-web01.contoso.com/WebManagementConsole"
    )
    assert status == 500 and not answer.answers
    assert answer.problem() == "HTTP 500"


# --- services and the GP PowerShell module ----------------------------------------------------------------------


@uses("tenant-services-list.md", "tenant-services-table.md")
@pytest.mark.parametrize("key", ["tenant_discovery", "tenant_management"])
def test_the_tenant_services_display_names_are_microsofts(key: str) -> None:
    listed = [line.lstrip("- ") for line in shown_lines("tenant-services-list.md")[1:]]
    tabled = [line.split("|")[0].strip() for line in shown_lines("tenant-services-table.md")[2:]]
    for profile in available():
        display = str(load_profile(profile)[f"services.{key}.display"])
        assert [name for name in listed if like(name, display)] == [display]
        assert [name for name in tabled if like(name, display)] == [display]


@uses("gp-powershell-scale-groups.md")
def test_the_collector_calls_none_of_the_gp_cmdlets_that_change_the_farm() -> None:
    cmdlets = set(re.findall(r"\b(?:Set|New|Update|Add|Remove|Get)-GP\w+", text("gp-powershell-scale-groups.md")))
    assert {"Set-GPSessionCentralAddress", "Update-GPSessionHost", "Get-GPScaleGroupTenant"} <= cmdlets
    # The connection cmdlet sets the address of the collector's own PowerShell session ("All of the other cmdlets
    # require this connection"); it changes nothing in Session Central, so it is the one the collector may run.
    changing = {c for c in cmdlets if not c.startswith("Get-")} - {"Set-GPSessionCentralAddress"}
    assert not [c for c in changing if c.lower() in COLLECTOR_SCRIPT.lower()]


# --- commands ---------------------------------------------------------------------------------------------------


def _lab_msiexec_steps() -> list[object]:
    plan = builtin_plan(
        FarmShape({"gp-web01": "web_server", "gp-sh01": "session_host", "gp-cl01": "client"}, era="silverlight"),
        lab=True,
    )
    return [s for phase in plan.phases for s in phase.steps if getattr(s, "command", None) == "msiexec"]


@uses("msiexec-web-components-update.md")
def test_the_lab_updates_web_components_as_the_guide_does() -> None:
    published = text("msiexec-web-components-update.md").split()
    assert published[:2] == ["msiexec", "/update"]
    updates = [s for s in _lab_msiexec_steps() if "WebComponents.msp" in " ".join(s.args)]  # type: ignore[attr-defined]
    assert updates and all(s.args[0] == published[1] for s in updates)  # type: ignore[attr-defined]


@uses("msiexec-can-year-end.cmd")
def test_the_runners_msiexec_log_switch_is_the_documented_one() -> None:
    published = text("msiexec-can-year-end.cmd").split()
    # Inside its ```cmd fence the page shows the Markdown escapes literally ("/l\*v"); the switch is /l*v.
    switch = unescape(published[3])
    assert (published[0].lower(), published[1], switch) == ("msiexec", "/p", "/l*v")
    steps = _lab_msiexec_steps()
    assert steps and all(switch in s.args for s in steps)  # type: ignore[attr-defined]


@uses("kb3036773-greatplains-msi.cmd")
def test_a_named_instances_folder_is_found_by_the_side_by_side_search() -> None:
    command = "".join(text("kb3036773-greatplains-msi.cmd").splitlines())  # the page breaks the line mid-path
    installdir = re.search(r'INSTALLDIR="([^"]+)"', command).group(1)  # type: ignore[union-attr]
    assert installdir == r"C:\Program Files\Microsoft Dynamics\GP$CUSTOMER1"
    assert re.search(r"ADDLOCAL = GP,HRM,FAM$", command)
    for key in ("dynamics_exe", "dex_ini"):
        default = str(load_profile("gp2015r2")[f"files.{key}"])
        pattern = release_pattern(default.replace("%ProgramFiles(x86)%", r"C:\Program Files"))
        tail = default.split("\\Microsoft Dynamics\\GP\\", 1)[1]
        assert fnmatchcase(f"{installdir}\\{tail}".lower(), pattern.lower())


@uses("help-installer-name.md")
def test_the_gp18_help_installer_is_the_published_name() -> None:
    name = unescape(shown_lines("help-installer-name.md")[-1]).rstrip(".")
    assert name == "Microsoft_DynamicsGP18_GPWebClientHelp.msi"
    assert FarmShape({}, era="html").help_installer == name
    for profile in ("gp18.3", "gp18.4", "gp18.5"):
        assert load_profile(profile)["help_installer"] == name


@uses("netsh-show-sslcert.txt", "clientaccesspolicy-troubleshooting.md")
def test_gp_post_012_quotes_the_troubleshooting_page() -> None:
    command = text("netsh-show-sslcert.txt").strip()
    check = info("GP-POST-012")
    assert f"`{command}`" in check.remediation
    url = next(
        unescape(line).strip("`")
        for line in shown_lines("clientaccesspolicy-troubleshooting.md")
        if "clientaccesspolicy.xml" in line and line.startswith("`")
    )
    assert url in check.title
    for profile in available():
        assert url.endswith(str(load_profile(profile)["web.client_access_policy_path"]))


class _Site:
    """A session host's site answering 404 for the policy file (what a check sees through WebSiteView)."""

    base_url = "https://gp-sh01.contoso.com"

    def url(self, path: str) -> str:
        return self.base_url + path

    def get(self, path: str) -> HttpAnswer:
        return HttpAnswer(self.url(path), 404, self.url(path))


@uses("clientaccesspolicy-troubleshooting.md")
def test_gp_post_012_judges_an_html_era_session_host() -> None:
    assert "HTML application" in text("clientaccesspolicy-troubleshooting.md")
    verdict, message = outcome(function("GP-POST-012"), "gp-sh01", _Site(), load_profile("gp18.4"))
    assert verdict == "warning", (verdict, message)


# --- requirements -----------------------------------------------------------------------------------------------


@uses("odbc-dsn-first-computer.md")
def test_gp_pre_006_does_not_require_the_installers_default_dsn_name() -> None:
    page = " ".join(shown_lines("odbc-dsn-first-computer.md"))
    assert "A data source name called Dynamics GP also is created" in page and "Do not create a data source" in page
    path = str(load_profile("gp18.4")["registry.odbc_dsn"]["path"])
    assert not path.endswith("\\Dynamics GP"), path


class _Sql:
    """What GP-PRE-016 reads of SQL Server: one GP database at the level the guide prescribes."""

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


@uses("sql-compatibility-2016.md")
def test_gp_pre_016_accepts_the_level_the_guide_prescribes_for_sql_server_2016() -> None:
    level = int(
        re.search(r"select SQL Server 2016 \((\d{3})\) as the level", text("sql-compatibility-2016.md")).group(1)
    )  # type: ignore[union-attr]
    assert level == 120
    # SQL Server 2016 reports ProductVersion 13.x (SQL Server's own version numbering, not from the GP page).
    farm = SimpleNamespace(profile=load_profile("gp18.4"))
    verdict, message = outcome(function("GP-PRE-016"), _Sql("13.0.5026.0", level), farm)
    assert verdict == "passed", message


@uses("kb2581260-registry-paths.md")
def test_registry_identifiers_name_the_32_bit_view_not_wow6432node() -> None:
    """On x64 Windows GP's key is the 32-bit path under Wow6432Node: what reading the plain path in the 32-bit
    view (collector.ps1 Open-HklmKey, RegistryView.Registry32) reaches. So a profile names the plain path and a
    view, never Wow6432Node (the redirection would be applied twice)."""
    keys = [
        re.search(r"`HKEY_Local_Machine\\(.+)\\`", line).group(1)  # type: ignore[union-attr]
        for line in shown_lines("kb2581260-registry-paths.md")
    ]
    plain, x64 = keys
    assert x64 == plain.replace("SOFTWARE\\", "SOFTWARE\\Wow6432Node\\", 1)
    for name in available():
        profile = load_profile(name)
        for key, ident in profile.identifiers.items():
            if key.startswith("registry.") and isinstance(ident.value, dict):
                assert "wow6432node" not in str(ident.value["path"]).lower(), (name, key)
                assert ident.value["view"] in ("32", "64"), (name, key)
        assert profile["registry.odbc_dsn"]["view"] == "32"  # GP is a 32-bit program: its DSN is a 32-bit one

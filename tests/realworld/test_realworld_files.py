"""GP's own files as Microsoft publishes them (Dynamics.set, Dex.ini, TenantConfiguration.xml) through gpverify's
readers: facts/dynamicsset.py, facts/tenantconfig.py, facts/windows.py, and the checks that judge them."""

from __future__ import annotations

import importlib
from fnmatch import fnmatchcase
from types import SimpleNamespace

import pytest
from realworld_corpus import host, outcome, shown_lines, table, text, unescape, uses

from gpverify.config.profiles import load_profile
from gpverify.facts import dynamicsset, tenantconfig
from gpverify.facts.tenantconfig import TenantConfiguration
from gpverify.facts.windows import release_pattern

ISSUE = "issue 21"
SMARTLIST = "kb858327-dynamics-set-smartlist.md"
SHARED = "kb858327-dynamics-set-shared-reports.md"


def check(module: str, name: str) -> object:
    """A shipped check function, looked up at run time (a `test_*` name imported here would be collected)."""
    return getattr(importlib.import_module(f"gpverify.checks.{module}"), name)


def launch_file(name: str) -> str:
    """The launch file a KB prints, as the page shows it: one line per line (CRLF-free, as the page has none)."""
    return "\n".join(shown_lines(name)) + "\n"


def windows_path(path: str, env: dict[str, str]) -> str:
    for variable, value in env.items():
        path = path.replace(f"%{variable}%", value)
    return path


WINDOWS = {"ProgramFiles": r"C:\Program Files", "ProgramFiles(x86)": r"C:\Program Files (x86)"}


# --- Dynamics.set -----------------------------------------------------------------------------------------------


@uses(SMARTLIST, SHARED)
@pytest.mark.parametrize("name", [SMARTLIST, SHARED])
def test_microsofts_launch_file_lists_gp_and_smartlist_with_their_main_dictionaries(name: str) -> None:
    products = dynamicsset.parse(launch_file(name))
    assert [(p.product, p.name, p.dictionary) for p in products] == [
        (0, "Dynamics", r"C:\Program Files\Microsoft Dynamics\GP\Dynamics.dic"),
        (1493, "SmartList", r"C:\Program Files\Microsoft Dynamics\GP\EXP1493.DIC"),
    ]


@uses(SMARTLIST)
def test_gp_host_007_on_microsofts_launch_file() -> None:
    """Every main dictionary present passes; SmartList's missing fails naming it (GP will not start without it)."""
    judge = check("hosts.test_session_host_products", "test_every_launched_product_has_its_dictionary")
    products = dynamicsset.parse(launch_file(SMARTLIST))

    def facts(missing: set[int]) -> list[dict[str, object]]:
        return [
            {"product": p.product, "name": p.name, "path": p.dictionary, "exists": p.product not in missing}
            for p in products
        ]

    assert outcome(judge, host("gp-sh01", dictionaries={"dynamics_set": facts(set())}))[0] == "passed"
    verdict, message = outcome(judge, host("gp-sh01", dictionaries={"dynamics_set": facts({1493})}))
    assert verdict == "failed"
    assert r"SmartList (product 1493) at C:\Program Files\Microsoft Dynamics\GP\EXP1493.DIC" in message


@uses("kb866722-dynamics-set-windows-block.md", "kb3145327-dynamics-set-paths.md")
def test_generic_dictionary_paths_become_windows_paths() -> None:
    block = shown_lines("kb866722-dynamics-set-windows-block.md")
    assert block[0] == "Windows"
    assert [dynamicsset.windows_path(p) for p in block[1:4]] == [
        r"C:\Program Files\Microsoft Dynamics\GP\Dynamics.dic",
        r"C:\Program Files\Microsoft Dynamics\GP\Data\FORMS.DIC",
        r"C:\Program Files\Microsoft Dynamics\GP\Data\REPORTS.DIC",
    ]
    hr = [dynamicsset.windows_path(p) for p in shown_lines("kb3145327-dynamics-set-paths.md")]
    assert hr[0] == r"C:\Program Files (x86)\Microsoft Dynamics\GP2013\CLTM.DIC"
    assert hr[-1] == r"C:\Program Files (x86)\Microsoft Dynamics\GP2013\Data\Dynamics\R4955.DIC"
    # The side-by-side search (facts/windows.release_pattern) finds a GP2013 folder's copy of a file.
    pattern = release_pattern(hr[0])
    assert pattern == r"C:\Program Files (x86)\Microsoft Dynamics\*\CLTM.DIC"
    assert fnmatchcase(hr[0], pattern)


@uses("kb866722-dynamics-set-windows-block.md")
def test_a_location_block_alone_is_not_a_launch_file() -> None:
    with pytest.raises(ValueError, match="first line is not the number of products"):
        dynamicsset.parse("\n".join(shown_lines("kb866722-dynamics-set-windows-block.md")))


def _two_location_launch_file() -> str:
    """The launch file SystemAdminGuide.md describes (its example is an image): KB 858327's two published versions
    of one launch file as two location IDs, 'Local Reports' and 'Network Reports', differing in Reports.dic.
    Composed here from the published lines; the artifacts stay as published."""
    local, network = shown_lines(SMARTLIST), shown_lines(SHARED)
    assert local[:6] == network[:6] and local[5] == "Windows"
    return "\n".join([*local[:5], "Local Reports", *local[6:], "Network Reports", *network[6:]]) + "\n"


@uses("launch-file-multiple-location-ids.md", "launch-file-defaults-together.md", SHARED)
def test_the_launch_file_block_is_the_one_workstation2_names() -> None:
    assert "Network Reports dictionary location ID" in " ".join(shown_lines("launch-file-multiple-location-ids.md"))
    products = dynamicsset.parse(_two_location_launch_file(), location="Network Reports")  # type: ignore[call-arg]
    assert [p.product for p in products] == [0, 1493]


@uses("launch-file-defaults-together.md", "dexini-dexsql-enable.md")
def test_a_session_hosts_dex_ini_is_read_for_its_workstation2_line() -> None:
    assert "Workstation2" in text("launch-file-defaults-together.md")
    from gpverify.config.profiles import load_profile
    from gpverify.facts.windows import build_request

    # The dictionaries query names the Dex.ini the collector reads Workstation2 from, beside Dynamics.set.
    queries = build_request("session_host", load_profile("gp18.4"))["dictionaries"]
    assert [q["key"] for q in queries] == ["dynamics_set"] and all(q.get("dex_ini") for q in queries)


# --- Dex.ini ----------------------------------------------------------------------------------------------------

DEX_INI = [
    "dexini-dexsql-enable.md",
    "dexini-dexsql-discontinue.md",
    "dexini-dexsql-one-line.md",
    "dexini-synchronize.md",
]


@uses(*DEX_INI)
@pytest.mark.parametrize("name", DEX_INI)
def test_dex_ini_text_is_kept_out_of_the_evidence(name: str) -> None:
    """A configuration file read whole is evidence by its size only (facts/view.py): Dex.ini can hold anything."""
    settings = " ".join(shown_lines(name))
    assert "=" in settings
    evidence: dict[str, object] = {}
    view = host(
        "gp-sh01",
        evidence,
        texts={
            "dex_ini": {
                "path": r"C:\Program Files (x86)\Microsoft Dynamics\GP\Data\Dex.ini",
                "exists": True,
                "text": settings,
            }
        },
    )
    fact = view.text("dex_ini")
    assert fact is not None and fact.text == settings
    recorded = evidence["gp-sh01: texts.dex_ini"]
    assert isinstance(recorded, dict) and recorded["text"] == f"({len(settings)} characters, not kept)"
    assert "SQLLog" not in str(recorded) and "Synchronize" not in str(recorded)


# --- TenantConfiguration.xml ------------------------------------------------------------------------------------


def _properties_as_tenant_configuration(properties: dict[str, str]) -> str:
    """The published property values in elements named by property, as tenantconfig.py reads the file (its
    element layout is not published; the root's name here is ours)."""
    body = "".join(
        f"<{k}>{v}</{k}>"
        for k, v in properties.items()
        if k in ("DynamicsexeLocation", "DynamicssetLocation", "DexiniLocation", "HeartbeatTimeout")
    )
    return f"<TenantConfiguration>{body}</TenantConfiguration>"


@uses("tenant-app-properties-gp2015.md")
def test_the_gp2015_tenants_runtime_paths_and_timeout() -> None:
    properties = table("tenant-app-properties-gp2015.md")
    config = tenantconfig.parse(_properties_as_tenant_configuration(properties))
    assert config.dynamics_exe == r"c:\Program Files (x86)\Microsoft Dynamics\GP2015\Dynamics.exe"
    assert config.dynamics_set == r"c:\Program Files (x86)\Microsoft Dynamics\GP2015\Dynamics.set"
    assert config.dex_ini == r"c:\Program Files (x86)\Microsoft Dynamics\GP2015\Data\Dex.ini"
    assert config.heartbeat_timeout == "0.20:00:00" and not config.sessions_never_time_out
    # The profile's default Dex.ini and the tenant's are the same file of different releases: the side-by-side
    # search pattern finds the GP2015 copy.
    default = windows_path(str(load_profile("gp2015r2")["files.dex_ini"]), WINDOWS)
    assert fnmatchcase(config.dex_ini.lower(), release_pattern(default).lower())


@uses("tenant-app-properties-help.md")
def test_the_documented_default_and_example_timeouts() -> None:
    described = table("tenant-app-properties-help.md")
    assert "The default value of 0.00:00:0 means the session is never terminated" in described["HeartbeatTimeout"]
    assert TenantConfiguration(None, None, None, "0.00:00:0").sessions_never_time_out
    assert not TenantConfiguration(None, None, None, "00.20:00:00").sessions_never_time_out
    folder = described["DynamicsexeLocation"].split("For example: ", 1)[1]
    config = tenantconfig.parse(_properties_as_tenant_configuration({"DynamicsexeLocation": folder}))
    assert config.dynamics_exe == r"c:\Program Files (x86)\Microsoft Dynamics\GP2013\Dynamics.exe"


@uses("tenantconfiguration-heartbeat-format.md")
def test_heartbeat_zero_is_never_and_the_gpweb_folder_is_the_silverlight_profiles() -> None:
    lines = shown_lines("tenantconfiguration-heartbeat-format.md")
    assert "Days.Hours:Minutes:Seconds" in lines
    assert any("0.00:00:00 indicates that the timeout is infinite" in line for line in lines)
    assert TenantConfiguration(None, None, None, "0.00:00:00").sessions_never_time_out
    folder = next(line for line in lines if line.startswith("C:"))
    published = unescape(folder)  # the page shows C:\Program Files\...\GPweb\ (the source doubles each backslash)
    for release in ("gp2013r2", "gp2015r2"):
        ours = windows_path(str(load_profile(release)["files.tenant_configuration"]), WINDOWS)
        assert ours.lower() == (published + "TenantConfiguration.xml").lower()


@uses("tenantconfiguration-folder-logging.md")
def test_the_tenant_configuration_is_where_the_logging_page_says() -> None:
    code_span = text("tenantconfiguration-folder-logging.md").strip().strip("`")
    # Inside a code span Markdown keeps backslashes, so the page itself shows them doubled: C:\\Program Files\\...
    folder = code_span.replace("\\\\", "\\")
    for release in ("gp2016r2", "gp18.3", "gp18.4", "gp18.5"):
        ours = windows_path(str(load_profile(release)["files.tenant_configuration"]), WINDOWS)
        assert ours.lower() == (folder + "TenantConfiguration.xml").lower()


@uses("tenantconfiguration-logging.xml")
def test_the_logging_snippet_is_a_fragment_not_a_file() -> None:
    snippet = text("tenantconfiguration-logging.xml")
    assert "<RuntimeLogEnabled>true</RuntimeLogEnabled>" in snippet
    with pytest.raises(ValueError, match="not well-formed XML"):
        tenantconfig.parse(snippet)


@uses("tenantconfiguration-heartbeat-format.md")
def test_gp_pre_019_does_not_fail_a_multitenant_farm_without_the_file() -> None:
    assert any(
        "multitenant configuration" in line and "Tenant Management snap-in" in line
        for line in shown_lines("tenantconfiguration-heartbeat-format.md")
    )
    judge = check("pre.test_pre_session_timeout", "test_disconnected_sessions_time_out")
    path = windows_path(str(load_profile("gp18.4")["files.tenant_configuration"]), WINDOWS)
    web_server = host("gp-web01", texts={"tenant_configuration": {"path": path, "exists": False}})
    farm = SimpleNamespace(
        profile=load_profile("gp18.4"),
        inventory=SimpleNamespace(tenant_services=True),
        hosts=lambda role: [SimpleNamespace(name="gp-ts01")] if role == "tenant_services" else [],
    )
    params = judge.__code__.co_varnames[: judge.__code__.co_argcount]  # type: ignore[attr-defined]
    given = {"web_server": web_server, "farm": farm}
    verdict, message = outcome(judge, **{p: given[p] for p in params})
    assert verdict != "failed", message

"""The lab's own statement of GP: what a real farm of each release has, every value with the source it is written from.

The lab builds its farm from this, never from the release profiles the checks read (config/profiles/*.yml):
tests/lab/test_lab_statement.py compares every profile identifier with this statement, so a wrong profile value
fails there, and on the healthy lab wherever the value decides a check. Keys are the profile's dotted identifiers
where the two speak of the same thing
(plus what only the lab needs). Basis: confirmed (Microsoft says so), third-party (public scripts and code of GP
administrators), inferred (reasoned from a source; the reasoning is in the source text), lab (no public source:
the lab's own name, chosen so that nothing gpverify ships matches it, as GPCONFIGURATION's tables are).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

Basis = Literal["confirmed", "third-party", "inferred", "lab"]


@dataclass(frozen=True)
class Stated:
    """One value of the statement and what it rests on."""

    value: Any
    source: str
    basis: Basis


def _c(value: Any, source: str) -> Stated:
    return Stated(value, source, "confirmed")


def _t(value: Any, source: str) -> Stated:
    return Stated(value, source, "third-party")


def _i(value: Any, source: str) -> Stated:
    return Stated(value, source, "inferred")


def _lab(value: Any, why: str) -> Stated:
    return Stated(value, f"no public source: {why}; the lab's own value", "lab")


DOCS = "https://learn.microsoft.com/dynamics-gp/"
KB = "https://learn.microsoft.com/troubleshoot/dynamics/gp/"
# An administrator's certificate-renewal hook script, found in public code (research sources-20-21.md B14): net stop
# "GPWebClientSessionCentral", "GPWebClientSessionServices", "GPService", "GPWebResourceCache" beside Management
# Reporter's real MR2012ApplicationService. And a public C# integration (Utility.cs) matching ServiceName values.
HOOK_SCRIPT = 'third-party: an administrator\'s certificate-renewal hook script (net stop "{}")'
UTILITY_CS = 'third-party: a public C# integration, Utility.cs (ServiceName.Equals("{}"))'
US_YEAR_END = f"{DOCS}payroll/us-year-end"
TENANT_ELEMENTS = f"{DOCS}web-components/tenant-services-applications (the web client application's properties)"

COMMON: dict[str, Stated] = {
    # Windows services (short names from public scripts; display names: the docs' component names)
    "services.session_central.name": _t("GPWebClientSessionCentral", HOOK_SCRIPT.format("GPWebClientSessionCentral")),
    "services.session_central.display": _i(
        "GP Session Central Service",
        f"{DOCS}web-components/tenant-services-installation ('- GP Session Central Service'): the component's name",
    ),
    "services.session_service.name": _t("GPWebClientSessionServices", HOOK_SCRIPT.format("GPWebClientSessionServices")),
    "services.session_service.display": _i(
        "GP Session Services", f"{DOCS}web-components/tenant-services-installation ('- GP Session Services')"
    ),
    "services.gp_service.name": _t(
        "GPService", HOOK_SCRIPT.format("GPService") + "; " + UTILITY_CS.format("GPService")
    ),
    "services.gp_service.display": _i("GP Service", f"{DOCS}web-components/installation-overview ('GP Service')"),
    "services.dex_service_control.name": _t(
        "GPDexterityServiceControl", UTILITY_CS.format("GPDexterityServiceControl")
    ),
    "services.dex_service_control.display": _i(
        "Dex Service Control", f"{DOCS}web-components/scale-out-installation ('Configure the Dex Service Control')"
    ),
    "services.web_resource_cache.name": _t("GPWebResourceCache", HOOK_SCRIPT.format("GPWebResourceCache")),
    "services.web_resource_cache.display": _c(
        "Microsoft Dynamics GP Web Resource Cache",
        f"{DOCS}web-components/gp-web-resource-cache ('The GP Web Resource Cache is a Windows service')",
    ),
    "services.tenant_discovery.name": _lab("LabTenantDiscoverySvc", "the Tenant Discovery Service's short name"),
    "services.tenant_discovery.display": _c(
        "Microsoft Dynamics GP Tenant Discovery Service",
        f"{DOCS}web-components/tenant-services-basics (the three WCF services)",
    ),
    "services.tenant_management.name": _lab("LabTenantManagementSvc", "the Tenant Management Service's short name"),
    "services.tenant_management.display": _c(
        "Microsoft Dynamics GP Tenant Management Service", f"{DOCS}web-components/tenant-services-basics"
    ),
    # Programs and Features
    "products.web_components": _c(
        "Microsoft Dynamics GP Web Components",
        "MicrosoftDocs/msftdynamicsgpdocs: "
        "dynamics-gp/web-components/repairing-the-web-client.md at 77e8536b (2018-08-24): "
        "'select Microsoft Dynamics GP Web Components. Click Change'",
    ),
    "products.web_client_help": _lab(
        "Lab web help content",
        "the help's Programs and Features name (only its installer's file name is published, help_installer)",
    ),
    "products.tenant_services": _i(
        "Microsoft Dynamics GP Tenant Services",
        f"{DOCS}web-components/tenant-services-"
        "installation names the component 'Tenant Services'; the entry's name is not public",
    ),
    # Windows Installer features of the GP entry: GP (core), HRM, FAM are published in text (KB 3036773's
    # ADDLOCAL = GP,HRM,FAM); the rest of its feature table is three images, so Web Client Runtime's and SBA's IDs
    # are not public.
    "features.published": _c(
        ("GP", "HRM", "FAM"),
        f"{KB}how-to-install-microsoft-dynamics-gp-2015-using-command-line (KB 3036773: 'ADDLOCAL = GP,HRM,FAM')",
    ),
    "features.web_client_runtime": _lab(
        "LabWebClientRuntime", "the Web Client Runtime feature's ID (KB 3036773's feature table is an image)"
    ),
    "features.service_based_architecture": _lab("LabServiceBasedArchitecture", "the SBA feature's ID (an image)"),
    # The same features by the titles the docs use (what the installer's Select Features window shows).
    "feature_titles.web_client_runtime": _c(
        "Web Client Runtime",
        f"{DOCS}web-components/environment-configuration "
        "('Be sure that the Web Client Runtime feature is marked to be installed')",
    ),
    "feature_titles.service_based_architecture": _c(
        "Service Based Architecture",
        f"{DOCS}installation/sba ('the Service Based Architecture feature must be installed')",
    ),
    # Files
    "files.dynamics_exe": _i(
        "%ProgramFiles(x86)%\\Microsoft Dynamics\\GP\\Dynamics.exe",
        f"{DOCS}installation/"
        "installing-on-subsequent-computers (default folder ...\\Microsoft Dynamics\\GP); GP is "
        "32-bit, so under Program Files (x86) on 64-bit Windows (KB 878449: 'C:\\Program Files "
        "(x86)\\Microsoft Dynamics\\GP\\SQL\\Util')",
    ),
    "files.dynamics_set": _i(
        "%ProgramFiles(x86)%\\Microsoft Dynamics\\GP\\Dynamics.set",
        f"{DOCS}installation/SystemAdminGuide (the launch file in the GP folder)",
    ),
    "files.dex_ini": _i(
        "%ProgramFiles(x86)%\\Microsoft Dynamics\\GP\\Data\\Dex.ini",
        f"{DOCS}installation/"
        "SystemAdminGuide ('By default, this file is in the following location: C:\\Program Files\\"
        "Microsoft Dynamics\\GP\\Data')",
    ),
    "files.configuration_wizard": _i(
        "%ProgramFiles%\\Microsoft Dynamics\\GP Web Components\\Microsoft.Dynamics.GP.Web.ConfigurationWizard.exe",
        f"{DOCS}web-components/tenant-services-installation "
        "('Start the Microsoft.Dynamics.GP.Web.ConfigurationWizard application ... c:\\"
        "Program Files\\Microsoft Dynamics\\GP Web Components\\'); '.exe' inferred",
    ),
    # Registry
    "registry.odbc_dsn": _c(
        {"path": "SOFTWARE\\ODBC\\ODBC.INI", "name": "Server", "view": "32"},
        "https://learn.microsoft.com/sql/odbc/reference/install/odbc-ini-subkey (one subkey per "
        "data source); Server: the SQL Server Native Client keyword; 32-bit: GP is 32-bit",
    ),
    "odbc.default_dsn_name": _c(
        "Dynamics GP",
        f"{DOCS}installation/installing-on-first-computer ('A data source name "
        "called Dynamics GP also is created using SQL Native Client')",
    ),
    "odbc.driver": _c(
        "SQL Server Native Client 11.0",
        f"{DOCS}installation/installing-on-first-computer ('using SQL "
        "Native Client'); 11.0 is the SQL Server 2012 client's version [inferred]",
    ),
    "registry.web_components_config_db": _lab(
        {
            "path": "SOFTWARE\\Microsoft Dynamics\\GP Web Components\\LabSessionService",
            "name": "ConfigurationDatabase",
            "view": "64",
        },
        "where a session host keeps its configuration database's name",
    ),
    "registry.silverlight_trust_32": _t(
        {"path": "SOFTWARE\\Microsoft\\Silverlight", "name": "AllowElevatedTrustAppsInBrowser", "view": "32"},
        "https://learn.microsoft.com/previous-versions/windows/silverlight/dotnet-"
        "windows-silverlight/gg192793(v=vs.95)",
    ),
    "registry.silverlight_trust_64": _t(
        {"path": "SOFTWARE\\Microsoft\\Silverlight", "name": "AllowElevatedTrustAppsInBrowser", "view": "64"},
        "https://learn.microsoft.com/previous-versions/windows/silverlight/dotnet-"
        "windows-silverlight/gg192793(v=vs.95)",
    ),
    # Certificates
    "certificates.trusted_publisher_store": _t(
        "LocalMachine\\TrustedPublisher",
        "third-party: Orc.Toolkit README (Silverlight apps: signing certificate into Trusted Publishers)",
    ),
    "certificates.web_client_signing_thumbprint": _lab(
        "the thumbprint of the lab's own signing certificate (models.SIGNING_CERT)",
        "the certificate DynamicsGPTrustedApp.msi installs",
    ),
    # Web paths
    "web.client_path": _c("/GP", f"{DOCS}web-components/scale-out-installation ('https://ServerName:PortNumber/GP')"),
    "web.console_path": _c("/WebManagementConsole", f"{DOCS}web-components/managing-web-client-sessions"),
    "web.gp_service_help_path": _c(
        "/GPService/Tenants(DefaultTenant)/help",
        f"{DOCS}web-components/scale-out-installation ('Verify the service based architecture installation')",
    ),
    "web.client_access_policy_path": _c(
        "/clientaccesspolicy.xml",
        f"{DOCS}web-components/troubleshooting ('https://session_host_machine:443/clientaccesspolicy.xml')",
    ),
    "iis.console_app_pool": _c(
        "DynGPWebMgmt",
        f"{DOCS}web-components/tenant-services-installation ('the "
        "DynGPWebMgmt application pool for the Web Management Console')",
    ),
    # Databases
    "sql.config_database": _c(
        "GPCONFIGURATION",
        f"{DOCS}web-components/scale-out-upgrade ('a new database name, defaulting to GPCONFIGURATION')",
    ),
    "sql.old_session_database": _c(
        "GPWEBCLIENTSESSIONCENTRAL",
        "MicrosoftDocs/msftdynamicsgpdocs: dynamics-gp/web-"
        "components/media/upgrade-web-new-database.png (the GP 2013-era session database)",
    ),
    "sql.tenant_discovery_database": _c("DYNGPDISCOVERY", f"{DOCS}web-components/tenant-services-basics"),
    "sql_server.compatibility_levels": _c(
        {"11": 110, "12": 120, "13": 120},
        f"{DOCS}upgrade/system-preparation ('SQL Server 2012 (110)', 'SQL Server 2014 (120)', 'SQL Server 2016 (120)')",
    ),
    # The configuration databases' tables and columns: not public. The lab's own (lab/sql.py CONFIG_SCHEMA).
    "config_db.session_hosts_table": _lab("LabSessionHostRegistry", "GPCONFIGURATION's tables"),
    "config_db.session_host_name_column": _lab("MachineName", "GPCONFIGURATION's columns"),
    "config_db.session_host_suspended_column": _lab("IsSuspended", "GPCONFIGURATION's columns"),
    "config_db.session_host_status_time_column": _lab("LastStatusUtc", "GPCONFIGURATION's columns"),
    "config_db.sessions_table": _lab("LabWebSession", "GPCONFIGURATION's tables"),
    "config_db.session_id_column": _lab("SessionKey", "GPCONFIGURATION's columns"),
    "config_db.session_host_column": _lab("MachineName", "GPCONFIGURATION's columns"),
    "config_db.session_user_column": _lab("UserName", "GPCONFIGURATION's columns"),
    "old_session_db.sessions_table": _lab("LabSessionCentralSession", "GPWEBCLIENTSESSIONCENTRAL's tables"),
    "old_session_db.session_id_column": _lab("SessionKey", "GPWEBCLIENTSESSIONCENTRAL's columns"),
    "old_session_db.session_user_column": _lab("UserName", "GPWEBCLIENTSESSIONCENTRAL's columns"),
    # The value the suspended flag takes when Session Management suspends a host (lab/sessioncentral.py renders it).
    "config_db.session_host_suspended_when": _lab(1, "the value GPCONFIGURATION's suspended flag takes"),
    # Session Central and GP's PowerShell module (issue 20): the address, the port's default and the connection
    # cmdlet are published; the module, its host getter and its objects' properties are not (lab/sessioncentral.py).
    "session_central.address": _lab(
        None,
        "the site's Session Central address: the lab's inventory leaves it to be derived from the web server's name",
    ),
    "session_central.scheme": _lab("http", "whether the site's Session Central uses SSL (the site's choice)"),
    "session_central.port": _c(
        48650, f"{DOCS}web-components/scale-out-installation ('Specify the Port (the default is 48650)')"
    ),
    "session_central.path": _c(
        "/SessionCentralService",
        f"{DOCS}web-components/managing-web-client-sessions ('https://machinename:48650/SessionCentralService')",
    ),
    "session_central.connect_cmdlet": _c(
        "Set-GPSessionCentralAddress",
        f"{DOCS}web-components/tenant-services-"
        "applications ('the first command you must enter connects to the Session "
        "Central Service')",
    ),
    "session_central.module_path": _lab(
        None, "the GP PowerShell module's name and folder: the lab's module is found by its connection cmdlet"
    ),
    "session_central.host_name_property": _lab(
        "Machine", "the property of Session Central's host objects holding the machine name"
    ),
    "session_central.suspended_property": _lab("Suspended", "the property Suspend changes"),
    "session_central.suspended_when": _lab(True, "the value of that property on a suspended host"),
    "session_central.status_time_property": _lab("LastContact", "the property behind Last Status Update"),
    "session_central.sessions_property": _lab("SessionsRunning", "the property counting a host's sessions"),
    # gpverify's own vocabulary for inferring a property's meaning from its name: no GP fact to state.
    "session_central_words.suspended": _lab(None, "Session Central's property names (gpverify's inference words)"),
    "session_central_words.allowed": _lab(None, "Session Central's property names (gpverify's inference words)"),
    "session_central_words.status_time": _lab(None, "Session Central's property names (gpverify's inference words)"),
    "session_central_words.sessions": _lab(None, "Session Central's property names (gpverify's inference words)"),
    "event_log.name_pattern": _c(
        "Dynamics",
        f"{DOCS}web-components/troubleshooting ('look on the Dynamics section "
        "of the Event Log on the machine running the web site and Session Central Service')",
    ),
    # TenantConfiguration.xml: the element names are published, the file's layout (root, nesting) is not.
    "tenant_configuration.dynamics_exe": _c("DynamicsexeLocation", TENANT_ELEMENTS),
    "tenant_configuration.dynamics_set": _c("DynamicssetLocation", TENANT_ELEMENTS),
    "tenant_configuration.dex_ini": _c("DexiniLocation", TENANT_ELEMENTS),
    "tenant_configuration.heartbeat": _c(
        "HeartbeatTimeout",
        f"{DOCS}web-components/managing-web-client-sessions "
        "('The <HeartbeatTimeout> element in the TenantConfiguration.xml file')",
    ),
    "tenant_configuration.runtime_log": _c("RuntimeLogEnabled", f"{DOCS}web-components/logging"),
    "tenant_configuration.layout": _lab(
        "TenantConfiguration/Tenant/Application", "the file's root element and nesting"
    ),
    "tenant.single_tenant_name": _c(
        "GPWebApp",
        f"{DOCS}web-components/managing-web-client-sessions ('If the Tenant "
        "Service is not being used, the tenant name is GPWebApp')",
    ),
    # Desktop client files
    "dex_ini.location_key": _c("Workstation2", f"{DOCS}installation/SystemAdminGuide (the dictionary location ID)"),
    "dynamics_set.default_location": _c(
        "Windows",
        f"{DOCS}installation/SystemAdminGuide ('Only one dictionary "
        "location ID, typically \"Windows,\" is provided'); KB 866722's example",
    ),
    "dynamics_set.encoding": _lab(
        "windows-1252",
        "the launch file's encoding (the docs say only 'Notepad'); the lab "
        "writes some launch files in the ANSI code page to prove they are read",
    ),
    # SQL Server sessions (GP-PRE-008)
    "tempdb.dex_session": _t(
        ("session_id", "sqlsvr_spid"),
        "third-party: a DDL dump of tempdb (CREATE TABLE "
        "[dbo].[DEX_SESSION]([session_id] int IDENTITY, [sqlsvr_spid] smallint)); GP's own "
        "dbo.GetGPUserIDbySPID uses sqlsvr_spid (Trackrabbit/TheLearningExperience at 9873da01: "
        "DYNAMICS/Functions/dbo.GetGPUserIDbySPID.sql)",
    ),
}

SILVERLIGHT_CLIENT_ACCESS = _c(
    True,
    f"{DOCS}web-components/troubleshooting ('Web client is Initializing': the XML "
    "content of https://session_host_machine:443/clientaccesspolicy.xml should be displayed)",
)
HTML_CLIENT_ACCESS = _i(
    True,
    f"{DOCS}web-components/troubleshooting (still prescribed for 'the HTML application in "
    "the web browser'; whether the HTML runtime serves the file is not stated)",
)
TENANT_CONFIG_HTML = _c(
    "%ProgramFiles%\\Microsoft Dynamics\\GP Web Components\\SessionCentral\\TenantConfiguration.xml",
    f"{DOCS}web-components/logging (corrected in 2021 by MicrosoftDocs/msftdynamicsgpdocs issue "
    "#261 for GP 18.3: 'the TenantConfiguration.xml file is located in the C:\\Program Files\\"
    "Microsoft Dynamics\\GP Web Components\\SessionCentral directory')",
)
TENANT_CONFIG_SILVERLIGHT = _i(
    "%ProgramFiles%\\Microsoft Dynamics\\GP Web Client\\GPweb\\TenantConfiguration.xml",
    f"{DOCS}web-components/managing-web-client-sessions (Session timeout: 'C:\\Program Files"
    "\\Microsoft Dynamics\\GP Web Client\\GPweb\\'), text kept from the earlier releases",
)
KB_878449 = f"{KB}transfer-gp-installation-new-server (KB 878449)"


@dataclass(frozen=True)
class Release:
    """What differs between releases: identity, build, web client era, SQL Server minimum, installers."""

    name: str  # the profile name a farm of this release uses in its inventory (gp18.4)
    title: Stated
    version: Stated
    era: Stated
    help_installer: Stated
    gp_entry: Stated  # the Programs and Features entry of GP itself
    min_sql: Stated
    min_level: Stated


ERA_SOURCES = {
    "2018": _c(
        "html",
        f"{DOCS}web-components/installation-overview ('For the GP 2018 release, Silverlight is no "
        "longer needed as the Web Client is now an HTML web client')",
    ),
    "2016": _i(
        "html",
        f"{DOCS}whats-new/version-2016 (the GP 2016 web client runs in Edge, Chrome, Safari and on "
        "tablets, so it is not Silverlight)",
    ),
    "silverlight": _c(
        "silverlight",
        "https://learn.microsoft.com/archive/blogs/developingfordynamicsgp/dynamics-gp-"
        "2013-web-client-infrastructure-overview (a Silverlight application); the guide's client steps "
        "('a new Silverlight application is downloaded')",
    ),
}


def _release(
    name: str,
    title: str,
    version: Stated,
    era: str,
    help_installer: Stated,
    entry: str,
    min_sql: str,
    min_level: int,
    why_sql: str,
) -> Release:
    return Release(
        name,
        _c(title, version.source),
        version,
        ERA_SOURCES[era],
        help_installer,
        _i(
            entry,
            "KB 850662 and KB 915472 ('select Microsoft Dynamics GP, and then select Change'); the release "
            "suffix of the entry is inferred",
        ),
        _c(min_sql, f"{KB_878449}: {why_sql}"),
        _i(min_level, f"{DOCS}upgrade/system-preparation: the level of the oldest supported SQL Server"),
    )


HELP_18 = _c(
    "Microsoft_DynamicsGP18_GPWebClientHelp.msi",
    f"{DOCS}web-components/scale-out-upgrade ('The installer "
    "has the following name: Microsoft_DynamicsGP18_GPWebClientHelp.msi')",
)
SQL_18 = "SQL Server 2014 (applies GP 2013 and higher); 2012 applies to GP 2013/2015/2016 only"


def _help(major: str) -> Stated:
    return _i(
        f"Microsoft_DynamicsGP{major}_GPWebClientHelp.msi",
        f"{DOCS}web-components/scale-out-upgrade names the "
        "GP 18 help installer; this release's is inferred from that name",
    )


def _ye(build: str, commit: str, quote: str) -> Stated:
    return _c(build, f"{US_YEAR_END} at commit {commit}: '{quote}'")


RELEASES: dict[str, Release] = {
    r.name: r
    for r in [
        _release(
            "gp2013r2",
            "Microsoft Dynamics GP 2013 R2",
            _c("12.0.1745", "KBs quoting 'Microsoft Dynamics GP 2013 R2 (12.00.1745)'"),
            "silverlight",
            _help("13"),
            "Microsoft Dynamics GP 2013",
            "10.50.2500",
            100,
            "SQL Server 2008 R2 SP1 or later (applies to GP 2013); SP1 is build 10.50.2500 (KB 321185)",
        ),
        _release(
            "gp2015r2",
            "Microsoft Dynamics GP 2015 R2",
            _c("14.0.725", "KB 3098833 ('Microsoft Dynamics GP 2015 R2 (14.00.0725)')"),
            "silverlight",
            _help("15"),
            "Microsoft Dynamics GP 2015",
            "11.0",
            110,
            "SQL Server 2012 (applies to GP 2013/GP 2015/GP 2016)",
        ),
        _release(
            "gp2016r2",
            "Microsoft Dynamics GP 2016 R2",
            _c("16.0.541", "KB 4073668 ('Microsoft Dynamics GP 2016 R2 (16.00.0541)')"),
            "2016",
            _help("16"),
            "Microsoft Dynamics GP 2016",
            "11.0",
            110,
            "SQL Server 2012 (applies to GP 2013/GP 2015/GP 2016)",
        ),
        _release(
            "gp2018r2",
            "Microsoft Dynamics GP 2018 R2",
            _c("18.0.628", "KB 3098833 ('Microsoft Dynamics GP 2018 R2 (18.00.0628)')"),
            "2018",
            HELP_18,
            "Microsoft Dynamics GP 2018",
            "12.0",
            120,
            SQL_18,
        ),
        _release(
            "gp18.2",
            "Microsoft Dynamics GP 18.2",
            _ye("18.2.1013", "e3143fc48b26", "October release 18.2.1013"),
            "2018",
            HELP_18,
            "Microsoft Dynamics GP 2018",
            "12.0",
            120,
            SQL_18,
        ),
        _release(
            "gp18.3",
            "Microsoft Dynamics GP 18.3",
            _ye("18.3.1173", "c20ed8daafbb", "18.2.1013 and 18.3.1173"),
            "2018",
            HELP_18,
            "Microsoft Dynamics GP 2018",
            "12.0",
            120,
            SQL_18,
        ),
        _release(
            "gp18.4",
            "Microsoft Dynamics GP 18.4",
            _ye("18.4.1361", "dba7d99c0656", "18.3.1173 and 18.4.1361"),
            "2018",
            HELP_18,
            "Microsoft Dynamics GP 2018",
            "12.0",
            120,
            SQL_18,
        ),
        _release(
            "gp18.5",
            "Microsoft Dynamics GP 18.5",
            _ye("18.5.1556", "f29f310deaf0", "18.4.1361, and 18.5.1556"),
            "2018",
            HELP_18,
            "Microsoft Dynamics GP 2018",
            "12.0",
            120,
            SQL_18,
        ),
        _release(
            "gp18.6",
            "Microsoft Dynamics GP 18.6",
            _i(
                "18.6.1695",
                f"{US_YEAR_END} at commit cec8a07f757b: the 2023 "
                "year-end update, 'The version should be 18.6.1695 or later'; the October 2023 release build is not "
                "public",
            ),
            "2018",
            HELP_18,
            "Microsoft Dynamics GP 2018",
            "12.0",
            120,
            SQL_18,
        ),
        _release(
            "gp18.8",
            "Microsoft Dynamics GP 18.8",
            _i(
                "18.8.1919",
                f"{US_YEAR_END} at commit 6f2605c67c7d: the 2025 "
                "year-end update, 'it should be version 18.8.1919 or later'; the October 2025 release build is not "
                "public",
            ),
            "2018",
            HELP_18,
            "Microsoft Dynamics GP 2018",
            "12.0",
            120,
            SQL_18,
        ),
    ]
}


class Statement:
    """The lab's statement for one release: every key's value, or Stated with its source."""

    def __init__(self, release: Release) -> None:
        self.release = release
        self.name = release.name
        major = release.version.value.split(".")[0]
        self._facts = {
            **COMMON,
            "release": release.title,
            "version": release.version,
            "era": release.era,
            "help_installer": release.help_installer,
            "products.gp_desktop": release.gp_entry,
            "sql_server.min_version": release.min_sql,
            "sql_server.min_compatibility_level": release.min_level,
            "web.session_host_client_access_policy": (
                SILVERLIGHT_CLIENT_ACCESS if release.era.value == "silverlight" else HTML_CLIENT_ACCESS
            ),
            "files.tenant_configuration": (
                TENANT_CONFIG_SILVERLIGHT if release.era.value == "silverlight" else TENANT_CONFIG_HTML
            ),
            # The SBA's Dexterity Service, one per GP instance and major version (GPDS-<instance>-<major>).
            "services.dexterity_service.name": Stated(
                f"GPDS-DEFAULT-{major}",
                UTILITY_CS.format("GPDS-DEFAULT-14") + "; the pattern for other majors is inferred",
                "third-party" if major == "14" else "inferred",
            ),
            "services.dexterity_service.display": _lab(f"GPDS-DEFAULT-{major}", "the Dexterity Service's display name"),
        }

    @property
    def version(self) -> str:
        return str(self["version"])

    def __getitem__(self, key: str) -> Any:
        return self._facts[key].value

    def get(self, key: str, default: Any = None) -> Any:
        fact = self._facts.get(key)
        return default if fact is None else fact.value

    def fact(self, key: str) -> Stated:
        return self._facts[key]

    def __contains__(self, key: str) -> bool:
        return key in self._facts

    def __iter__(self) -> Iterator[str]:
        return iter(self._facts)


def statement(name: str) -> Statement:
    """The lab's statement of a release (gp18.4, gp2015r2, ...); KeyError naming the releases it states."""
    if name not in RELEASES:
        raise KeyError(f"the lab states no release {name!r} (it states {', '.join(RELEASES)})")
    return Statement(RELEASES[name])

"""gpverify: checks for the Dynamics GP web client scale-out upgrade, and the API for a site's own checks."""

# A check of your own is a pytest test marked with `check`, reading facts through the fixtures gpverify's
# pytest plugin provides (session_host, web_server, client, tenant_server, gp_sql, web_site, profile) and
# ending by assert, `warn` or `not_verified`; README.md, "Custom checks", shows one.

from gpverify.catalogue import CheckInfo, check
from gpverify.errors import ConfigError, FactsUnavailable, GpVerifyError, HostUnavailable, SqlUnavailable
from gpverify.facts.gpsql import GpSqlView
from gpverify.facts.view import HostView
from gpverify.facts.web import WebSiteView
from gpverify.facts.windows import CertificateFact, FileFact, ProductFact, RegistryFact, ServiceFact
from gpverify.outcomes import not_verified, warn
from gpverify.profiles import Profile

__version__ = "0.1.0"

__all__ = [
    "CertificateFact",
    "CheckInfo",
    "ConfigError",
    "FactsUnavailable",
    "FileFact",
    "GpSqlView",
    "GpVerifyError",
    "HostUnavailable",
    "HostView",
    "ProductFact",
    "Profile",
    "RegistryFact",
    "ServiceFact",
    "SqlUnavailable",
    "WebSiteView",
    "__version__",
    "check",
    "not_verified",
    "warn",
]

"""gpverify: checks for the Dynamics GP web client scale-out upgrade, and the API for a site's own checks."""

# A check of your own is a pytest test marked with `check`, reading facts through the fixtures gpverify's
# pytest plugin provides (session_host, web_server, client, tenant_server, gp_sql, web_site, profile) and
# ending by assert, `warn` or `not_verified`; README.md, "Custom checks", shows one.

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# The public API, each name with the module that defines it. They are imported when first used (PEP 562), not
# with the package: `gpverify --version`, the CLI and every `import gpverify.<module>` would otherwise pay for
# pytest, pydantic, requests, cryptography and sqlglot, whether or not the command needs them.
_EXPORTS = {
    "CheckInfo": "gpverify.catalogue",
    "check": "gpverify.catalogue",
    "ConfigError": "gpverify.errors",
    "FactsUnavailable": "gpverify.errors",
    "GpVerifyError": "gpverify.errors",
    "HostUnavailable": "gpverify.errors",
    "SqlUnavailable": "gpverify.errors",
    "GpSqlView": "gpverify.facts.gpsql",
    "HostView": "gpverify.facts.view",
    "WebSiteView": "gpverify.facts.web",
    "CertificateFact": "gpverify.facts.windows",
    "FileFact": "gpverify.facts.windows",
    "ProductFact": "gpverify.facts.windows",
    "RegistryFact": "gpverify.facts.windows",
    "ServiceFact": "gpverify.facts.windows",
    "not_verified": "gpverify.verdicts",
    "warn": "gpverify.verdicts",
    "Profile": "gpverify.config.profiles",
}

if TYPE_CHECKING:  # what type checkers and IDEs see: the same names, imported eagerly
    from gpverify.catalogue import CheckInfo, check
    from gpverify.config.profiles import Profile
    from gpverify.errors import ConfigError, FactsUnavailable, GpVerifyError, HostUnavailable, SqlUnavailable
    from gpverify.facts.gpsql import GpSqlView
    from gpverify.facts.view import HostView
    from gpverify.facts.web import WebSiteView
    from gpverify.facts.windows import CertificateFact, FileFact, ProductFact, RegistryFact, ServiceFact
    from gpverify.verdicts import not_verified, warn


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gpverify' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # once: later lookups find it without this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


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

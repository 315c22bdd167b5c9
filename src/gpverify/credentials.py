"""Where passwords come from: named environment variables; never the inventory or the command line."""

from __future__ import annotations

import os

from gpverify.errors import ConfigError


def secret_from_env(env_name: str | None, *, field: str, origin: str = "inventory") -> str | None:
    """Return the password held by the named environment variable, or None when none is named."""
    if not env_name:
        return None
    value = os.environ.get(env_name)
    if value is None:
        raise ConfigError(origin, field, f"environment variable {env_name} to be set (it holds the password)")
    return value

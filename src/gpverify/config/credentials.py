"""Where passwords come from: an environment variable, the OS keyring, or a prompt on the terminal.

Never from the inventory's text and never from the command line (no option takes a password). When a
settings block names more than one source, the first of environment, keyring, prompt wins.
"""

from __future__ import annotations

import getpass
import os
import sys
import threading
from typing import Any

from gpverify.errors import ConfigError

_PROMPTED: dict[str, str] = {}  # account (or field when no user is set) -> password typed once per process
_PROMPT_LOCK = threading.Lock()


# Set by unattended commands (gpverify audit): never prompt, even from a terminal.
NONINTERACTIVE_ENV = "GPVERIFY_NONINTERACTIVE"


def secret_from_env(env_name: str | None, *, field: str, origin: str = "inventory") -> str | None:
    """Return the password held by the named environment variable, or None when none is named."""
    if not env_name:
        return None
    value = os.environ.get(env_name)
    if value is None:
        raise ConfigError(origin, field, f"environment variable {env_name} to be set (it holds the password)")
    return value


def split_keyring_ref(ref: str) -> tuple[str, str]:
    """'gpverify/LAB\\gpadmin' -> ('gpverify', 'LAB\\gpadmin'): the service before the first slash, the user after."""
    service, _, user = ref.partition("/")
    return service, user


def secret_from_keyring(ref: str | None, *, field: str, origin: str = "inventory") -> str | None:
    """The password stored in the OS keyring (Windows Credential Manager, macOS Keychain, Secret Service)."""
    if not ref:
        return None
    service, user = split_keyring_ref(ref)
    if not service or not user:
        raise ConfigError(origin, field, f"'service/user' naming a keyring entry, got {ref!r}")
    try:
        import keyring
        import keyring.errors
    except ImportError:
        raise ConfigError(
            origin,
            field,
            "the Python package 'keyring' to be installed (pip install keyring) to read passwords from the OS keyring",
        ) from None
    try:
        value = keyring.get_password(service, user)
    except keyring.errors.KeyringError as exc:
        raise ConfigError(
            origin,
            field,
            f"a usable OS keyring ({type(exc).__name__}: {exc}); on a server without one, use password_env instead",
        ) from None
    if value is None:
        raise ConfigError(
            origin,
            field,
            f"a password in the OS keyring for service {service!r} and user {user!r} "
            f"(store it with: keyring set {service} {user})",
        )
    return value


def has_tty() -> bool:
    """True when getpass can ask someone: it reads the terminal itself, not stdin (which pytest replaces).

    On POSIX getpass opens the controlling terminal (/dev/tty), so that is what is looked for. On Windows it
    reads the console through msvcrt, but only while sys.stdin is the console (getpass.win_getpass). A
    scheduled task or a cron job has neither.
    """
    if os.name == "nt":
        return sys.stdin is sys.__stdin__ and sys.__stdin__ is not None and sys.__stdin__.isatty()
    try:
        with open("/dev/tty", "rb"):
            return True
    except OSError:
        return False


def secret_from_prompt(prompt: bool | None, *, user: str | None, field: str, origin: str = "inventory") -> str | None:
    """Ask on the terminal, once per account name per process; refused without a terminal."""
    if not prompt:
        return None
    key = user.lower() if user else field
    with _PROMPT_LOCK:
        if key in _PROMPTED:
            return _PROMPTED[key]
        if not has_tty() or os.environ.get(NONINTERACTIVE_ENV):
            raise ConfigError(
                origin,
                field,
                "an interactive terminal for password_prompt (this run has none, or "
                "is unattended): in audits and scheduled runs use password_env or password_keyring",
            )
        value = getpass.getpass(f"Password for {user or 'the account'} ({field}): ")
        _PROMPTED[key] = value
        return value


def resolve_password(settings: Any, *, field: str, origin: str = "inventory") -> str | None:
    """The password for a WinRMSettings or SqlSettings block: environment, then keyring, then prompt.

    `field` names the settings block in messages (e.g. 'gp-sh01.winrm' or 'sql'); None when no source is set.
    """
    env = getattr(settings, "password_env", None)
    if env:
        return secret_from_env(env, field=f"{field}.password_env", origin=origin)
    ref = getattr(settings, "password_keyring", None)
    if ref:
        return secret_from_keyring(ref, field=f"{field}.password_keyring", origin=origin)
    return secret_from_prompt(
        getattr(settings, "password_prompt", None),
        user=getattr(settings, "user", None),
        field=f"{field}.password_prompt",
        origin=origin,
    )

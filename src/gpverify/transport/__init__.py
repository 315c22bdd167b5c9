"""Transports by name, imported lazily so an optional dependency is needed only when used."""

from __future__ import annotations

from importlib import import_module
from typing import Any

TRANSPORTS = {
    "winrm": "gpverify.transport.winrm:WinRMTransport",  # pywinrm: the reference, and every authentication
    "lean": "gpverify.transport.lean:LeanTransport",  # gpverify's own WinRM client: NTLM and Basic, no proxy
}


def get_transport_class(scheme: str) -> Any:
    """Return the transport class registered for a scheme."""
    try:
        module, _, name = TRANSPORTS[scheme].partition(":")
    except KeyError:
        raise ValueError(f"Unknown transport '{scheme}'") from None
    return getattr(import_module(module), name)


def transport_for(spec: Any) -> str:
    """The registered transport for a host (a HostSpec): the lean client where it can, else pywinrm
    (transport/settings.py: client_for)."""
    from gpverify.transport.settings import client_for

    return "lean" if client_for(spec) == "lean" else "winrm"

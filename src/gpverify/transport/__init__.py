"""Transports by name, imported lazily so an optional dependency is needed only when used."""

from __future__ import annotations

from importlib import import_module
from typing import Any

TRANSPORTS = {
    "winrm": "gpverify.transport.winrm:WinRMTransport",
}


def get_transport_class(scheme: str) -> Any:
    """Return the transport class registered for a scheme."""
    try:
        module, _, name = TRANSPORTS[scheme].partition(":")
    except KeyError:
        raise ValueError(f"Unknown transport '{scheme}'") from None
    return getattr(import_module(module), name)

"""Simulated WinRM (WS-Management / WinRS) listener that unmodified pywinrm talks to over loopback."""

from __future__ import annotations

from gpverify.lab.wsman.auth import AuthConfig
from gpverify.lab.wsman.faults import (
    AccessDenied,
    ActionNotEmulated,
    CommandLineTooLong,
    HandlerError,
    InvalidMessage,
    OperationTimedOut,
    UnencryptedRefused,
    UnknownCommand,
    UnknownShell,
    WsmanFault,
)
from gpverify.lab.wsman.hostfaults import HOST_FAULTS, HostFault, fault_for
from gpverify.lab.wsman.responses import CommandHandler, CommandOutput, WsmanResponder
from gpverify.lab.wsman.server import RecordedRequest, WsmanServer
from gpverify.lab.wsman.tls import CertificateAuthority, issue, make_ca, make_self_signed, server_context

__all__ = [
    "HOST_FAULTS",
    "AccessDenied",
    "ActionNotEmulated",
    "AuthConfig",
    "CertificateAuthority",
    "CommandHandler",
    "CommandLineTooLong",
    "CommandOutput",
    "HandlerError",
    "HostFault",
    "InvalidMessage",
    "OperationTimedOut",
    "RecordedRequest",
    "UnencryptedRefused",
    "UnknownCommand",
    "UnknownShell",
    "WsmanFault",
    "WsmanResponder",
    "WsmanServer",
    "fault_for",
    "issue",
    "make_ca",
    "make_self_signed",
    "server_context",
]

"""WS-Management faults the lab can answer with, as named exception classes."""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AccessDenied",
    "ActionNotEmulated",
    "CommandLineTooLong",
    "HandlerError",
    "InvalidMessage",
    "OperationTimedOut",
    "UnencryptedRefused",
    "UnknownCommand",
    "UnknownShell",
    "WsmanFault",
]


class WsmanFault(Exception):
    """Base of every lab fault; `serialize.fault_envelope` turns one into a SOAP fault.

    Models and handlers only ``raise``; the HTTP status, SOAP Code/Subcode, the
    ``f:WSManFault/@Code`` and the reason text live here as class attributes
    (moto-style, style-anchors guidance item 7). pywinrm reads them back as
    ``WSManFaultError.fault_code``, ``.fault_subcode``, ``.wsman_fault_code`` and
    ``.reason`` (pywinrm ``protocol.py: Protocol.send_message``).
    """

    http_status: ClassVar[int] = 500
    code: ClassVar[str] = "s:Receiver"
    subcode: ClassVar[str] = "w:InternalError"
    wsman_code: ClassVar[int] = 2150858752  # 0x80338000, generic WS-Management failure
    reason: ClassVar[str] = "The WS-Management service cannot process the request."
    fault_detail: ClassVar[str | None] = None  # optional w:FaultDetail URI
    empty_body: ClassVar[bool] = False  # True: answer http_status with no SOAP body at all

    def __init__(self, message: str | None = None) -> None:
        self.message: str = message if message is not None else type(self).reason
        super().__init__(self.message)


class OperationTimedOut(WsmanFault):
    """Receive found no output within ``w:OperationTimeout`` (research A.5)."""

    subcode = "w:TimedOut"
    wsman_code = 2150858793  # 0x80338029: pywinrm maps exactly this to WinRMOperationTimeoutError
    # Real Windows text, two trailing spaces included (pywinrm tests/test_exceptions.py).
    reason = "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "


class UnknownShell(WsmanFault):
    """The request's ShellId selector names no open shell (research A.5 table)."""

    code = "s:Sender"
    subcode = "w:InvalidSelectors"
    # 0x8033805B ERROR_WSMAN_UNEXPECTED_SELECTORS: what Windows sends for a shell that is gone.
    wsman_code = 2150858843
    fault_detail = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors"
    reason = "The request for the Windows Remote Shell failed because the shell was not found on the server."

    def __init__(self, shell_id: str | None = None) -> None:
        self.shell_id = shell_id
        super().__init__(
            f"The request for the Windows Remote Shell with ShellId {shell_id} failed because the shell "
            "was not found on the server. Possible causes are: the specified ShellId is incorrect or the "
            "shell no longer exists on the server. Provide the correct ShellId or create a new shell and "
            "retry the operation."
        )


class UnknownCommand(WsmanFault):
    """A Send/Receive names a CommandId the shell does not know (codes chosen by the lab, not recorded)."""

    code = "s:Sender"
    subcode = "w:InvalidParameter"
    wsman_code = 2150858810  # 0x8033803A ERROR_WSMAN_INVALID_PARAMETER (winerror.h); pairing assumed
    reason = "The WS-Management service cannot process the request because the CommandId is not valid."


class ActionNotEmulated(WsmanFault):
    """An ``a:Action`` (or ResourceURI) the lab does not implement: never a silent empty 200 (guidance 7).

    Subcode is the WS-Addressing one because winerror.h documents
    ERROR_WSMAN_ACTION_NOT_SUPPORTED (0x80338013) as "wsa, code=Sender,
    subcode=WS-Addressing ActionNotSupported".
    """

    code = "s:Sender"
    subcode = "a:ActionNotSupported"
    wsman_code = 2150858771  # 0x80338013 ERROR_WSMAN_ACTION_NOT_SUPPORTED
    reason = "The WS-Management service does not support the action specified in the request."

    def __init__(self, action: str, resource_uri: str | None = None) -> None:
        self.action = action
        where = f" for resource {resource_uri}" if resource_uri else ""
        super().__init__(f"The {action} action is not emulated by the gpverify WS-Management lab{where}.")


class CommandLineTooLong(WsmanFault):
    """CreateProcess refused a command line over 32,767 characters (masterzen/winrm fixture, research A.5)."""

    subcode = "w:InternalError"
    wsman_code = 2147942606  # 0x800700CE ERROR_FILENAME_EXCED_RANGE
    reason = "The filename or extension is too long."


class AccessDenied(WsmanFault):
    """The authenticated user may not use the shell resource (Windows answers WSManFault Code="5")."""

    code = "s:Sender"
    subcode = "w:AccessDenied"
    wsman_code = 5  # ERROR_ACCESS_DENIED as Windows puts it in f:WSManFault/@Code
    reason = "Access is denied. "


class UnencryptedRefused(AccessDenied):
    """A plaintext body on an NTLM-authenticated HTTP connection while AllowUnencrypted=false.

    Windows answers HTTP 500 without a SOAP body (diyan/pywinrm#208, #129;
    research A.7), which pywinrm surfaces as ``WinRMTransportError('http', 500, '')``.
    """

    empty_body = True
    reason = "Unencrypted traffic is refused by this listener (AllowUnencrypted=false)."


class InvalidMessage(WsmanFault):
    """The body is not a SOAP envelope the lab can read, or its encryption framing is broken."""

    code = "s:Sender"
    subcode = "w:SchemaValidationError"
    wsman_code = 2150858817  # 0x80338041 ERROR_WSMAN_SCHEMA_VALIDATION_ERROR (pywinrm test_exceptions.py)
    reason = "The SOAP XML in the message does not match the corresponding XML schema definition."


class HandlerError(WsmanFault):
    """A CommandHandler raised something that is not a WsmanFault; kept in ``handler_errors`` too."""

    reason = "The lab command handler raised an unexpected exception."

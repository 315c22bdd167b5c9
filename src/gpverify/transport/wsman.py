"""WinRS over WS-Management as text: envelopes from templates, answers read with one XML parse each.

The requests are the ones pywinrm 0.5 sends (winrm/protocol.py: open_shell, run_command, send_command_input,
get_command_output_raw, close_shell), the same options and values, so a host sees the same shell and command
line from either client; every value from outside (command, arguments, ids from the host) is escaped as XML data.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from xml.etree.ElementTree import XML, Element, ParseError
from xml.sax.saxutils import escape

from gpverify.transport.base import Received

SOAP = "http://www.w3.org/2003/05/soap-envelope"
SHELL_NS = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
FAULT_NS = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
RESOURCE_CMD = f"{SHELL_NS}/cmd"
ACTION_CREATE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
ACTION_DELETE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
ACTION_COMMAND = f"{SHELL_NS}/Command"
ACTION_SEND = f"{SHELL_NS}/Send"
ACTION_RECEIVE = f"{SHELL_NS}/Receive"
STATE_DONE = f"{SHELL_NS}/CommandState/Done"
# w:TimedOut (0x80338029): "nothing yet" to a Receive; the client asks again (MS-WSMV 3.1.4.14, pywinrm's
# WinRMOperationTimeoutError is exactly this code).
TIMED_OUT_CODE = 2150858793
MAX_ENVELOPE = 153600  # what pywinrm asks for (Protocol.DEFAULT_MAX_ENV_SIZE)

_ENVELOPE = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
    'xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd" '
    'xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">'
    '<s:Header><a:To>{to}</a:To><a:ReplyTo><a:Address s:mustUnderstand="true">'
    "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>"
    f'<w:MaxEnvelopeSize s:mustUnderstand="true">{MAX_ENVELOPE}</w:MaxEnvelopeSize>'
    "<a:MessageID>uuid:{message_id}</a:MessageID>"
    '<w:Locale xml:lang="en-US" s:mustUnderstand="false"/><p:DataLocale xml:lang="en-US" s:mustUnderstand="false"/>'
    "<w:OperationTimeout>PT{timeout}S</w:OperationTimeout>"
    f'<w:ResourceURI s:mustUnderstand="true">{RESOURCE_CMD}</w:ResourceURI>'
    '<a:Action s:mustUnderstand="true">{action}</a:Action>{selectors}{options}</s:Header>'
    "<s:Body>{body}</s:Body></s:Envelope>"
)
_SELECTOR = '<w:SelectorSet><w:Selector Name="ShellId">{shell}</w:Selector></w:SelectorSet>'
_CREATE_OPTIONS = (
    '<w:OptionSet><w:Option Name="WINRS_NOPROFILE">FALSE</w:Option>'
    '<w:Option Name="WINRS_CODEPAGE">437</w:Option></w:OptionSet>'
)
_CREATE_BODY = (
    "<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams>"
    "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>"
)
_COMMAND_OPTIONS = (
    '<w:OptionSet><w:Option Name="WINRS_CONSOLEMODE_STDIN">TRUE</w:Option>'
    '<w:Option Name="WINRS_SKIP_CMD_SHELL">FALSE</w:Option></w:OptionSet>'
)
_COMMAND_BODY = "<rsp:CommandLine><rsp:Command>{command}</rsp:Command>{arguments}</rsp:CommandLine>"
_SEND_BODY = '<rsp:Send><rsp:Stream Name="stdin" CommandId="{command}" End="{end}">{data}</rsp:Stream></rsp:Send>'
_RECEIVE_BODY = '<rsp:Receive><rsp:DesiredStream CommandId="{command}">stdout stderr</rsp:DesiredStream></rsp:Receive>'


class BadAnswer(Exception):
    """An answer that is no WS-Management envelope of the kind asked for."""


@dataclass(frozen=True)
class Fault:
    """A SOAP fault's parts as pywinrm reads them (Protocol.send_message)."""

    code: str | None
    subcode: str | None
    reason: str | None
    wsman_code: int | None

    @property
    def timed_out(self) -> bool:
        return self.wsman_code == TIMED_OUT_CODE


def _xml(text: str) -> str:
    return escape(text, {'"': "&quot;"})


class Envelopes:
    """The request envelopes of one host: its endpoint and operation timeout filled in once."""

    def __init__(self, endpoint: str, operation_timeout: float) -> None:
        self._to = _xml(endpoint)
        self._timeout = int(operation_timeout)

    def _envelope(self, action: str, body: str, shell: str | None = None, options: str = "") -> bytes:
        selectors = _SELECTOR.format(shell=_xml(shell)) if shell else ""
        text = _ENVELOPE.format(
            to=self._to,
            message_id=uuid.uuid4(),
            timeout=self._timeout,
            action=action,
            selectors=selectors,
            options=options,
            body=body,
        )
        return text.encode("utf-8")

    def create(self) -> bytes:
        return self._envelope(ACTION_CREATE, _CREATE_BODY, options=_CREATE_OPTIONS)

    def command(self, shell: str, command: str, args: list[str]) -> bytes:
        arguments = f"<rsp:Arguments>{_xml(' '.join(args))}</rsp:Arguments>" if args else ""
        body = _COMMAND_BODY.format(command=_xml(command), arguments=arguments)
        return self._envelope(ACTION_COMMAND, body, shell, _COMMAND_OPTIONS)

    def send(self, shell: str, command_id: str, data: bytes, end: bool) -> bytes:
        body = _SEND_BODY.format(
            command=_xml(command_id), end="true" if end else "false", data=base64.b64encode(data).decode("ascii")
        )
        return self._envelope(ACTION_SEND, body, shell)

    def receive(self, shell: str, command_id: str) -> bytes:
        return self._envelope(ACTION_RECEIVE, _RECEIVE_BODY.format(command=_xml(command_id)), shell)

    def delete(self, shell: str) -> bytes:
        return self._envelope(ACTION_DELETE, "", shell)


# ---- answers


def _parse(data: bytes) -> Element:
    """One answer's tree. No WS-Management answer has a DTD, so one with a DTD or entity declaration is refused
    before parsing, as defusedxml would refuse it (forbid_dtd) but without its parser built per call (measured:
    a CreateResponse 154 us with defusedxml, 51 us so); ElementTree never fetches an external entity, and expat
    (2.4+) bounds entity amplification besides."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise BadAnswer("an answer with a DTD")
    try:
        return XML(data)
    except ParseError as exc:
        raise BadAnswer(f"not XML ({type(exc).__name__})") from None


def parse_shell_id(data: bytes) -> str:
    """The ShellId of a CreateResponse: pywinrm's rule, any element whose Name attribute is ShellId."""
    for node in _parse(data).iter():
        if node.get("Name") == "ShellId" and node.text:
            return node.text.strip()
    raise BadAnswer("no ShellId in the CreateResponse")


def parse_command_id(data: bytes) -> str:
    """The CommandId of a CommandResponse: pywinrm's rule, the first element whose tag ends with CommandId."""
    for node in _parse(data).iter():
        if node.tag.endswith("CommandId") and node.text:
            return node.text.strip()
    raise BadAnswer("no CommandId in the CommandResponse")


def parse_output(data: bytes) -> Received:
    """Streams, state and exit code of a ReceiveResponse, read as pywinrm reads them (get_command_output_raw)."""
    stdout: list[bytes] = []
    stderr: list[bytes] = []
    done, exit_code = False, -1
    for node in _parse(data).iter():
        tag = node.tag
        if tag.endswith("Stream") and node.text:
            target = {"stdout": stdout, "stderr": stderr}.get(node.get("Name", ""))
            if target is not None:
                target.append(_b64(node.text))
        elif node.get("State", "").endswith("CommandState/Done"):
            done = True
        elif tag.endswith("ExitCode"):
            exit_code = _int(node.text)
    return Received(b"".join(stdout), b"".join(stderr), done, exit_code if done else -1)


def parse_fault(data: bytes) -> Fault | None:
    """The SOAP fault in an error answer, or None when the body is not one."""
    try:
        root = _parse(data)
    except BadAnswer:
        return None
    node = root.find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    if node is None:
        return None
    detail = node.find(f"{{{SOAP}}}Detail/{{{FAULT_NS}}}WSManFault")
    code = detail.get("Code") if detail is not None else None
    return Fault(
        code=_text(node, "Code/Value"),
        subcode=_text(node, "Code/Subcode/Value"),
        reason=_text(node, "Reason/Text"),
        wsman_code=int(code) if code and code.isdigit() else None,
    )


def _text(node: Element, path: str) -> str | None:
    """The text at `path` ("Code/Value") below a SOAP element, every step in the SOAP namespace."""
    found = node.find("/".join(f"{{{SOAP}}}{step}" for step in path.split("/")))
    return found.text if found is not None and found.text else None


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        raise BadAnswer("a stream that is not base64") from None


def _int(text: str | None) -> int:
    try:
        return int(text or -1)
    except ValueError:
        raise BadAnswer("an exit code that is not a number") from None

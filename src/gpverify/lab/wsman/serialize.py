"""Parse WS-Man requests as pywinrm sends them and build every SOAP envelope the lab answers with."""

from __future__ import annotations

import base64
import binascii
import functools
import os
import random
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape as xml_escape

from gpverify.lab.wsman.faults import InvalidMessage, WsmanFault

# Namespaces as pywinrm declares them (research A.2) plus the fault namespace (research A.5).
NS: dict[str, str] = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
}
SHELL = NS["rsp"]
RESOURCE_CMD = f"{SHELL}/cmd"
ACTION_CREATE = f"{NS['x']}/Create"
ACTION_DELETE = f"{NS['x']}/Delete"
ACTION_FAULT = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
ANONYMOUS = f"{NS['a']}/role/anonymous"
STATE_DONE = f"{SHELL}/CommandState/Done"
STATE_RUNNING = f"{SHELL}/CommandState/Running"
SIGNAL_TERMINATE = f"{SHELL}/signal/terminate"
STREAM_CHUNK = 4096  # bytes per rsp:Stream element; Windows also splits output over several elements

Element = ET.Element


@dataclass(frozen=True)
class WsmanRequest:
    """The header fields of one decoded request plus its ``s:Body`` element."""

    action_uri: str
    message_id: str | None
    resource_uri: str | None
    shell_id: str | None
    options: dict[str, str]
    body: Element = field(repr=False)

    @functools.cached_property
    def action(self) -> str:
        """Short action name, e.g. ``Create``: the last path segment of ``a:Action``."""
        return self.action_uri.rstrip("/").rsplit("/", 1)[-1]

    @functools.cached_property
    def stdin_chunks(self) -> list[StdinChunk]:
        """The decoded ``rsp:Send`` streams, decoded once for the responder and the request log (`parse_send`)."""
        return _parse_send(self.body)


@dataclass(frozen=True)
class StdinChunk:
    """One ``rsp:Send/rsp:Stream`` element, base64 already decoded."""

    command_id: str
    data: bytes
    end: bool


@dataclass(frozen=True)
class ShellSpec:
    """What the client asked for in ``rsp:Shell`` (pywinrm ``open_shell``)."""

    input_streams: str = "stdin"
    output_streams: str = "stdout stderr"
    working_directory: str | None = None
    environment: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------- parsing


def _text(parent: Element, path: str) -> str | None:
    node = parent.find(path, NS)
    return node.text if node is not None else None


# Clark names ({uri}local) of what a request's header holds: the lab walks the header's children once instead of
# a namespace-mapped ElementPath search per field (same first-match semantics as Element.find).
_Q_ENVELOPE, _Q_HEADER, _Q_BODY = (f"{{{NS['s']}}}{n}" for n in ("Envelope", "Header", "Body"))
_Q_ACTION, _Q_MESSAGE_ID = f"{{{NS['a']}}}Action", f"{{{NS['a']}}}MessageID"
_Q_RESOURCE_URI, _Q_SELECTOR_SET, _Q_SELECTOR, _Q_OPTION_SET, _Q_OPTION = (
    f"{{{NS['w']}}}{n}" for n in ("ResourceURI", "SelectorSet", "Selector", "OptionSet", "Option")
)
_Q_SEND, _Q_STREAM = f"{{{SHELL}}}Send", f"{{{SHELL}}}Stream"


def _children(parent: Element, tag: str) -> list[Element]:
    return [child for child in parent if child.tag == tag]


def _first(parent: Element, tag: str) -> Element | None:
    return next((child for child in parent if child.tag == tag), None)


def parse_request(data: bytes) -> WsmanRequest:
    """Decode one SOAP request; anything unreadable becomes an `InvalidMessage` fault."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise InvalidMessage(f"The request body is not well-formed XML: {exc}") from exc
    header, body = _first(root, _Q_HEADER), _first(root, _Q_BODY)
    if root.tag != _Q_ENVELOPE or header is None or body is None:
        raise InvalidMessage()
    fields: dict[str, str | None] = {}
    options: dict[str, str] = {}
    selector: Element | None = None
    for child in header:
        tag = child.tag
        if tag == _Q_OPTION_SET:
            options.update((o.get("Name", ""), o.text or "") for o in child if o.tag == _Q_OPTION)
        elif tag == _Q_SELECTOR_SET and selector is None:
            selector = next((s for s in child if s.tag == _Q_SELECTOR and s.get("Name") == "ShellId"), None)
        else:
            fields.setdefault(tag, child.text)
    return WsmanRequest(
        action_uri=(fields.get(_Q_ACTION) or "").strip(),
        message_id=fields.get(_Q_MESSAGE_ID),
        resource_uri=fields.get(_Q_RESOURCE_URI),
        shell_id=selector.text if selector is not None else None,
        options=options,
        body=body,
    )


def parse_shell(req: WsmanRequest) -> ShellSpec:
    """Read ``rsp:Shell`` from a Create body."""
    shell = req.body.find("rsp:Shell", NS)
    if shell is None:
        return ShellSpec()
    env = {v.get("Name", ""): v.text or "" for v in shell.findall("rsp:Environment/rsp:Variable", NS)}
    return ShellSpec(
        input_streams=_text(shell, "rsp:InputStreams") or "stdin",
        output_streams=_text(shell, "rsp:OutputStreams") or "stdout stderr",
        working_directory=_text(shell, "rsp:WorkingDirectory"),
        environment=env,
    )


def parse_command_line(req: WsmanRequest) -> str:
    """``rsp:Command`` + " " + the ``rsp:Arguments`` texts, the way pywinrm's ``run_command`` splits them."""
    line = req.body.find("rsp:CommandLine", NS)
    if line is None:
        raise InvalidMessage("The Command request has no rsp:CommandLine element.")
    parts = [_text(line, "rsp:Command") or ""]
    parts += [a.text or "" for a in line.findall("rsp:Arguments", NS)]
    return " ".join(parts)


def parse_send(req: WsmanRequest) -> list[StdinChunk]:
    """Every ``rsp:Stream Name="stdin"`` of a Send body, decoded (pywinrm ``send_command_input``)."""
    return req.stdin_chunks


def _parse_send(body: Element) -> list[StdinChunk]:
    chunks: list[StdinChunk] = []
    for send in _children(body, _Q_SEND):
        for stream in _children(send, _Q_STREAM):
            try:
                data = base64.b64decode((stream.text or "").strip(), validate=True)
            except binascii.Error as exc:
                raise InvalidMessage(f"The stdin stream is not valid base64: {exc}") from exc
            end = (stream.get("End") or "false").lower() == "true"
            chunks.append(StdinChunk(stream.get("CommandId", ""), data, end))
    return chunks


def parse_receive(req: WsmanRequest) -> str | None:
    """The CommandId of ``rsp:Receive/rsp:DesiredStream``."""
    node = req.body.find("rsp:Receive/rsp:DesiredStream", NS)
    return node.get("CommandId") if node is not None else None


def parse_signal(req: WsmanRequest) -> tuple[str | None, str]:
    """``(CommandId, signal code URI)`` of a Signal body."""
    node = req.body.find("rsp:Signal", NS)
    if node is None:
        raise InvalidMessage("The Signal request has no rsp:Signal element.")
    return node.get("CommandId"), (_text(node, "rsp:Code") or "").strip()


# ---------------------------------------------------------------- building
# Answers are string templates with every value escaped as XML data, the header real Windows sends (masterzen/winrm
# fixture_test.go); building element trees cost more than the rest of an answer.

_XMLNS = " ".join(f'xmlns:{k}="{v}"' for k, v in NS.items())
_ENVELOPE = (
    f'<s:Envelope xml:lang="en-US" {_XMLNS}><s:Header><a:Action>{{action}}</a:Action>'
    f"<a:MessageID>uuid:{{message_id}}</a:MessageID><a:To>{ANONYMOUS}</a:To>{{relates}}</s:Header>"
    "<s:Body>{body}</s:Body></s:Envelope>"
)
_STREAM = '<rsp:Stream Name="{name}" CommandId="{command}">{data}</rsp:Stream>'


_GUIDS = random.Random(os.urandom(32))  # seeded once from the OS


def new_guid() -> str:
    """An upper-case version-4 GUID, as Windows hands out for ShellId, CommandId and MessageID: names, not
    secrets, so drawn from one generator seeded once, where uuid4 asks the OS each time (a syscall, and with it a
    release and re-take of the GIL the lab's connection threads contend for)."""
    digits = f"{_GUIDS.getrandbits(128):032X}"
    variant = "89AB"[int(digits[16], 16) & 3]  # RFC 4122: version 4 in the 13th digit, variant 10xx in the 17th
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}"


def _x(text: str) -> str:
    """A value as XML character data or attribute text."""
    return xml_escape(text, {'"': "&quot;"})


def _envelope(action_uri: str, relates_to: str | None, body: str) -> bytes:
    # pywinrm asserts RelatesTo == MessageID on Signal and Delete (research A.3, G).
    relates = f"<a:RelatesTo>{_x(relates_to)}</a:RelatesTo>" if relates_to else ""
    return _ENVELOPE.format(action=action_uri, message_id=new_guid(), relates=relates, body=body).encode("utf-8")


def create_response(relates_to: str | None, shell_id: str, address: str, spec: ShellSpec, owner: str) -> bytes:
    """CreateResponse with both places pywinrm could find the ShellId (research A.3)."""
    shell = _x(shell_id)
    fields = (
        ("ShellId", shell),
        ("ResourceUri", RESOURCE_CMD),
        ("Owner", _x(owner)),
        ("ClientIP", "127.0.0.1"),
        ("IdleTimeOut", "PT7200.000S"),
        ("InputStreams", _x(spec.input_streams)),
        ("OutputStreams", _x(spec.output_streams)),
        ("ShellRunTime", "P0DT0H0M0S"),
        ("ShellInactivity", "P0DT0H0M0S"),
    )
    body = (
        f"<x:ResourceCreated><a:Address>{_x(address)}</a:Address><a:ReferenceParameters>"
        f'<w:ResourceURI>{RESOURCE_CMD}</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">{shell}'
        "</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated><rsp:Shell>"
        + "".join(f"<rsp:{tag}>{value}</rsp:{tag}>" for tag, value in fields)
        + "</rsp:Shell>"
    )
    return _envelope(f"{ACTION_CREATE}Response", relates_to, body)


def command_response(relates_to: str | None, command_id: str) -> bytes:
    """CommandResponse; pywinrm takes the first element whose tag ends with ``CommandId``."""
    body = f"<rsp:CommandResponse><rsp:CommandId>{_x(command_id)}</rsp:CommandId></rsp:CommandResponse>"
    return _envelope(f"{SHELL}/CommandResponse", relates_to, body)


def send_response(relates_to: str | None) -> bytes:
    """SendResponse; pywinrm parses nothing from it."""
    return _envelope(f"{SHELL}/SendResponse", relates_to, "<rsp:SendResponse/>")


def _streams(name: str, command_id: str, data: bytes) -> str:
    return "".join(
        _STREAM.format(
            name=name, command=command_id, data=base64.b64encode(data[start : start + STREAM_CHUNK]).decode("ascii")
        )
        for start in range(0, len(data), STREAM_CHUNK)
    )


def receive_response(
    relates_to: str | None, command_id: str, stdout: bytes, stderr: bytes, exit_code: int | None
) -> bytes:
    """ReceiveResponse: data chunks, then (when ``exit_code`` is not None) End markers and State Done.

    Every ``*Stream`` element carries ``Name`` or pywinrm raises KeyError;
    empty End="true" elements are skipped by pywinrm (research A.4, pypsrp recordings).
    """
    command = _x(command_id)
    parts = [_streams("stdout", command, stdout), _streams("stderr", command, stderr)]
    if exit_code is None:
        parts.append(f'<rsp:CommandState CommandId="{command}" State="{STATE_RUNNING}"/>')
    else:
        parts += [f'<rsp:Stream Name="{name}" CommandId="{command}" End="true"/>' for name in ("stdout", "stderr")]
        parts.append(
            f'<rsp:CommandState CommandId="{command}" State="{STATE_DONE}">'
            f"<rsp:ExitCode>{exit_code}</rsp:ExitCode></rsp:CommandState>"
        )
    return _envelope(
        f"{SHELL}/ReceiveResponse", relates_to, f"<rsp:ReceiveResponse>{''.join(parts)}</rsp:ReceiveResponse>"
    )


def signal_response(relates_to: str | None) -> bytes:
    """SignalResponse; only RelatesTo matters to pywinrm."""
    return _envelope(f"{SHELL}/SignalResponse", relates_to, "<rsp:SignalResponse/>")


def delete_response(relates_to: str | None) -> bytes:
    """DeleteResponse: empty body, RelatesTo in the header."""
    return _envelope(f"{ACTION_DELETE}Response", relates_to, "")


def fault_envelope(fault: WsmanFault, relates_to: str | None, machine: str) -> bytes:
    """The single place a `WsmanFault` becomes SOAP (shape: research A.5, pywinrm test_exceptions.py)."""
    message = _x(fault.message)
    detail = f"<w:FaultDetail>{_x(fault.fault_detail)}</w:FaultDetail>" if fault.fault_detail else ""
    body = (
        f"<s:Fault><s:Code><s:Value>{fault.code}</s:Value><s:Subcode><s:Value>{fault.subcode}</s:Value>"
        f'</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">{message}</s:Text></s:Reason><s:Detail>'
        f'<f:WSManFault Code="{fault.wsman_code}" Machine="{_x(machine)}"><f:Message>{message}</f:Message>'
        f"</f:WSManFault>{detail}</s:Detail></s:Fault>"
    )
    return _envelope(ACTION_FAULT, relates_to, body)

"""The web server's TenantConfiguration.xml: where the session hosts' GP runtime is, and the session timeout.

In a single-tenant installation the Session Central Service keeps its default tenant in TenantConfiguration.xml
at the root of its folder (web-components/tenant-services-basics.md, web-components/logging.md). The runtime
paths are the web client application's properties DynamicsexeLocation (a folder), DynamicssetLocation and
DexiniLocation (files) (web-components/tenant-services-applications.md); HeartbeatTimeout is
Days.Hours:Minutes:Seconds, 0.00:00:00 meaning sessions never time out (managing-web-client-sessions.md).
The file's element layout is not published, so elements are found by name wherever they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from gpverify.facts.windows import TextFact

RUNTIME_ELEMENTS = {
    "dynamics_exe": "DynamicsexeLocation",
    "dynamics_set": "DynamicssetLocation",
    "dex_ini": "DexiniLocation",
}


@dataclass(frozen=True)
class TenantConfiguration:
    dynamics_exe: str | None  # the path of Dynamics.exe (DynamicsexeLocation is its folder)
    dynamics_set: str | None
    dex_ini: str | None
    heartbeat_timeout: str | None

    @property
    def sessions_never_time_out(self) -> bool:
        parts = (self.heartbeat_timeout or "").replace(":", ".").split(".")
        return bool(self.heartbeat_timeout) and all(p.strip().strip("0") == "" for p in parts)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def _value(root: Element, name: str) -> str | None:
    for element in root.iter():
        if _local(element.tag) == name.lower():
            text = (element.text or element.get("value") or "").strip()
            return text or None
    return None


def parse(text: str) -> TenantConfiguration:
    """Read the runtime paths and HeartbeatTimeout; raise ValueError saying what is wrong with the file."""
    try:
        root = ElementTree.fromstring(text.lstrip("\ufeff"))
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise ValueError(f"not well-formed XML ({exc})") from None
    folder = _value(root, RUNTIME_ELEMENTS["dynamics_exe"])
    exe = (
        None
        if folder is None
        else (folder if folder.lower().endswith(".exe") else folder.rstrip("\\") + "\\Dynamics.exe")
    )
    return TenantConfiguration(
        exe,
        _value(root, RUNTIME_ELEMENTS["dynamics_set"]),
        _value(root, RUNTIME_ELEMENTS["dex_ini"]),
        _value(root, "HeartbeatTimeout"),
    )


class FileMissing(ValueError):
    """The web server has no TenantConfiguration.xml where the profile says (Tenant Services farms keep none)."""


def read(text: TextFact | None, where: str) -> TenantConfiguration:
    """The collected file parsed; ValueError (FileMissing when absent) saying why it cannot be, naming `where`."""
    if text is None or not text.exists:
        raise FileMissing(f"{where} not found at {text.path if text else 'profile files.tenant_configuration'}")
    if text.problem or text.text is None:
        raise ValueError(f"{where} ({text.path}) cannot be read: {text.problem}")
    try:
        return parse(text.text)
    except ValueError as exc:
        raise ValueError(f"{where} ({text.path}) is {exc}") from None

"""WinRM transport over real pywinrm: one shell per host, commands fed through stdin."""

from __future__ import annotations

import base64
import time
from types import TracebackType

import requests
from winrm.exceptions import (
    InvalidCredentialsError,
    WinRMError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
    WSManFaultError,
)
from winrm.protocol import Protocol

from gpverify.errors import HostUnavailable
from gpverify.inventory import HostSpec
from gpverify.transport.base import CommandResult

# WinRS Send envelopes stay well under the default MaxEnvelopeSize of 150 KB (pywinrm sends 153600).
STDIN_CHUNK = 32 * 1024


def encoded_command(script: str) -> list[str]:
    """powershell.exe arguments that run a script given as -EncodedCommand (UTF-16LE base64)."""
    encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
    return ["-NoLogo", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand", encoded]


class WinRMTransport:
    """An open WinRM shell on one host; every failure becomes HostUnavailable naming the host."""

    def __init__(self, spec: HostSpec, password: str | None) -> None:
        self.spec = spec
        self._protocol = self._connect(spec, password)
        self._shell: str | None = None

    @staticmethod
    def _connect(spec: HostSpec, password: str | None) -> Protocol:
        w = spec.winrm
        if w.transport == "basic" and w.scheme == "http" and not w.allow_basic_over_http:
            raise HostUnavailable(spec.name, "Basic authentication over plain HTTP is refused (the password would "
                                  "travel in clear): use HTTPS, or set winrm.allow_basic_over_http: true")
        return Protocol(
            endpoint=spec.endpoint,
            transport=w.transport or "ntlm",
            username=w.user,
            password=password,
            server_cert_validation="validate" if w.cert_validation else "ignore",
            ca_trust_path=w.ca_bundle,  # None: requests' own CA store (pywinrm's "legacy_requests" warns)
            message_encryption=w.message_encryption or "auto",
            read_timeout_sec=w.read_timeout or 60,
            operation_timeout_sec=w.operation_timeout or 20,
        )

    def __enter__(self) -> WinRMTransport:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def _guard(self, action: str, func, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return func(*args, **kwargs)
        except (requests.RequestException, WinRMError, OSError) as exc:
            raise HostUnavailable(self.spec.name, explain(exc, self.spec, action)) from None

    def run(self, command: str, args: list[str], stdin: bytes | None = None) -> CommandResult:
        """Run one command in this host's shell (opened on first use), feeding stdin if given."""
        if self._shell is None:
            self._shell = self._guard("opening a shell", self._protocol.open_shell)
        command_id = self._guard("starting the command", self._protocol.run_command, self._shell, command, args)
        for start in range(0, len(stdin or b""), STDIN_CHUNK):
            chunk = stdin[start:start + STDIN_CHUNK]  # type: ignore[index]
            last = start + STDIN_CHUNK >= len(stdin)  # type: ignore[arg-type]
            self._guard("sending input", self._protocol.send_command_input, self._shell, command_id, chunk, last)
        return self._receive(command_id)

    def _receive(self, command_id: str) -> CommandResult:
        out, err, deadline = [], [], time.monotonic() + (self.spec.winrm.read_timeout or 60)
        while time.monotonic() < deadline:
            try:
                stdout, stderr, code, done = self._protocol.get_command_output_raw(self._shell, command_id)
            except WinRMOperationTimeoutError:
                continue  # w:TimedOut only means "nothing yet": Windows expects the client to ask again
            except (requests.RequestException, WinRMError, OSError) as exc:
                raise HostUnavailable(self.spec.name, explain(exc, self.spec, "reading output")) from None
            out.append(stdout)
            err.append(stderr)
            if done:
                return CommandResult(code, b"".join(out), b"".join(err))
        raise HostUnavailable(self.spec.name, "the command did not finish within winrm.read_timeout")

    def close(self) -> None:
        """Delete the shell; the shell's commands end with it, so no Signal is needed."""
        if self._shell is not None:
            shell, self._shell = self._shell, None
            try:
                self._protocol.close_shell(shell)
            except (requests.RequestException, WinRMError, OSError):
                pass  # the facts are already read; a failed Delete lets the shell time out on the host


def _tls_hint(text: str) -> str:
    if "match" in text and ("hostname" in text or "IP address" in text):
        return "the host's TLS certificate does not match the name connected to: connect by a name in the certificate"
    if "self-signed" in text or "unable to get local issuer" in text or "verify failed" in text:
        return "the host's TLS certificate is not trusted: set winrm.ca_bundle to the PEM of the CA that issued it"
    return f"TLS handshake failed ({text.splitlines()[0][:160]})"


def _connection_hint(text: str, spec: HostSpec) -> str:
    low = text.lower()
    if "name or service not known" in low or "getaddrinfo" in low or "nodename nor servname" in low \
            or "failed to resolve" in low or "name resolution" in low:
        return f"the name {spec.address!r} does not resolve: check DNS or set the host's address"
    if "refused" in low:
        return f"connection refused at {spec.endpoint}: is the WinRM listener on (winrm quickconfig) and the port open?"
    if "reset" in low or "aborted" in low or "remotedisconnected" in low:
        return "the connection was reset while talking to WinRM"
    return f"cannot reach WinRM at {spec.endpoint}"


def explain(exc: BaseException, spec: HostSpec, action: str) -> str:
    """One sentence saying what failed and what to fix; never includes a credential."""
    w = spec.winrm
    if isinstance(exc, requests.exceptions.SSLError):
        return _tls_hint(str(exc))
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return f"no answer within {w.read_timeout:g} s while {action} (host slower than winrm.read_timeout)"
    if isinstance(exc, (requests.exceptions.ConnectionError, OSError)):
        return _connection_hint(str(exc), spec)
    if isinstance(exc, InvalidCredentialsError):
        return (f"credentials rejected for user {w.user!r} over {w.transport}: check the account, its password "
                f"(from {w.password_env or 'the credential store'}) and that WinRM allows {w.transport}")
    if isinstance(exc, WinRMOperationTimeoutError):
        return f"the command produced no output within the WS-Man operation timeout while {action}"
    if isinstance(exc, WSManFaultError):
        return f"WS-Management fault while {action}: {(exc.reason or '').strip() or exc.code}"
    if isinstance(exc, WinRMTransportError):
        hint = ""
        if exc.code == 500 and spec.winrm.scheme == "http" and spec.winrm.message_encryption == "never":
            hint = ": the host requires message encryption (AllowUnencrypted=false); use message_encryption auto or HTTPS"
        return f"the WinRM service answered HTTP {exc.code} while {action}{hint}"
    return f"WinRM error while {action}: {type(exc).__name__}"

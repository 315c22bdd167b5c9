"""WinRM transport over real pywinrm: one shell per host, commands fed through stdin."""

from __future__ import annotations

import base64
import contextlib
import functools
import logging
import time
import urllib.request
from typing import Any, Self

import requests
from requests_ntlm import HttpNtlmAuth
from winrm.exceptions import (
    BasicAuthDisabledError,
    InvalidCredentialsError,
    WinRMError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
    WSManFaultError,
)
from winrm.protocol import Protocol
from winrm.transport import Transport

from gpverify.config.inventory import HostSpec
from gpverify.errors import HostUnavailable
from gpverify.transport.base import CommandResult
from gpverify.transport.bounded import (
    BoundedAdapter,
    DeadlinePassed,
    HostDeadline,
    NotWinRM,
    ResponseTooLarge,
)
from gpverify.transport.ntlm import UpFrontNegotiateAuth, ntlm_secret

# WinRS Send envelopes stay well under the default MaxEnvelopeSize of 150 KB (pywinrm sends 153600).
STDIN_CHUNK = 32 * 1024
# Everything pywinrm and requests raise for a host that cannot be used (WinRMTransportError and
# WinRMOperationTimeoutError do not derive from WinRMError).
WINRM_FAILURES = (requests.RequestException, WinRMError, WinRMTransportError, WinRMOperationTimeoutError, OSError)
# The whole collector output of one host; its JSON is a few hundred KB on a large farm.
MAX_OUTPUT_BYTES = 64 * 1024 * 1024
# Consecutive w:TimedOut answers before giving up; a fast-failing endpoint is also paused between Receives.
RECEIVE_RETRIES = 100
RECEIVE_PAUSE_MAX = 1.0


class _NoAuthTokens(logging.Filter):
    """pyspnego logs every NTLM/SPNEGO/CredSSP token at DEBUG; they can be cracked offline, so they never leave."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        return not any(word in text for word in ("step input", "step output", "TSRequest"))


for _name in ("spnego._ntlm", "spnego._negotiate", "spnego._gss", "spnego._credssp", "spnego._sspi"):
    logging.getLogger(_name).addFilter(_NoAuthTokens())


class _BoundedTransport(Transport):
    """pywinrm's Transport, its session prepared before the first request is sent: gpverify's bounded adapter,
    NTLM with Negotiate up front, and the proxy resolved once (no environment lookup per request)."""

    bounded_adapter: BoundedAdapter | None = None

    def _mount(self, session: requests.Session) -> None:
        if self.bounded_adapter is not None and session.adapters.get("http://") is not self.bounded_adapter:
            session.mount("http://", self.bounded_adapter)
            session.mount("https://", self.bounded_adapter)
        # pywinrm set session.proxies from the proxy gpverify resolved (protocol_options): with trust_env on,
        # requests would read the proxy variables again for every request (requests.utils.resolve_proxies).
        session.trust_env = False
        if type(session.auth) is HttpNtlmAuth:
            auth = session.auth
            session.auth = UpFrontNegotiateAuth(auth.username, auth.password, send_cbt=auth.send_cbt)

    def setup_encryption(self, session: requests.Session) -> None:
        self._mount(session)  # the blank POST that sets up encryption is bounded too
        super().setup_encryption(session)

    def build_session(self) -> requests.Session:
        session = super().build_session()
        self._mount(session)
        return session


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
        # Started after the options are accepted: connect, authenticate and collect all count against it.
        self.deadline = HostDeadline(spec.winrm.deadline or 300)
        transport = self._protocol.transport
        # The same object, given gpverify's bounds: a subclass that only mounts an adapter on pywinrm's session.
        transport.__class__ = _BoundedTransport
        transport.bounded_adapter = BoundedAdapter(self.deadline, spec.winrm.connect_timeout or 10)  # type: ignore[attr-defined]

    @staticmethod
    def _connect(spec: HostSpec, password: str | None) -> Protocol:
        options = protocol_options(spec, password)
        try:
            return Protocol(**options)
        except (WinRMError, ValueError) as exc:  # pywinrm validates credentials and cert files up front
            raise HostUnavailable(spec.name, explain(exc, spec, "preparing the connection")) from None
        except Exception as exc:  # noqa: BLE001 - anything else pywinrm raises on odd settings: one sentence
            raise HostUnavailable(spec.name, explain_unexpected(exc, spec, "preparing the connection")) from None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _guard(self, action: str, func, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return func(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - an odd endpoint makes pywinrm or its auth fail in odd ways
            raise HostUnavailable(self.spec.name, self._explain(exc, action)) from None

    def _explain(self, exc: BaseException, action: str) -> str:
        if self.deadline.expired:  # the deadline shut the sockets: whatever broke, that is why
            return deadline_sentence(self.spec, action)
        if isinstance(exc, WINRM_FAILURES):
            return explain(exc, self.spec, action)
        return explain_unexpected(exc, self.spec, action)

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
        assert self._shell is not None
        out: list[bytes] = []
        err: list[bytes] = []
        size, timed_out = 0, 0
        until = time.monotonic() + min(self.spec.winrm.read_timeout or 60, self.deadline.remaining())
        while time.monotonic() < until:
            asked = time.monotonic()
            try:
                stdout, stderr, code, done = self._protocol.get_command_output_raw(self._shell, command_id)
            except WinRMOperationTimeoutError:
                # w:TimedOut only means "nothing yet": Windows expects the client to ask again. Windows sends it
                # after the operation timeout; an endpoint that sends it at once is paused, and the retries capped.
                timed_out += 1
                if timed_out >= RECEIVE_RETRIES:
                    raise HostUnavailable(self.spec.name, f"the command produced no output after {timed_out} "
                                          "Receive requests: the collector hangs (see the host's event log)") from None
                if time.monotonic() - asked < (self.spec.winrm.operation_timeout or 20) / 2:
                    time.sleep(min(RECEIVE_PAUSE_MAX, 0.05 * 2 ** min(timed_out, 5), max(0.0, until - time.monotonic())))
                continue
            except Exception as exc:  # noqa: BLE001 - see _guard
                raise HostUnavailable(self.spec.name, self._explain(exc, "reading output")) from None
            timed_out = 0
            size += len(stdout) + len(stderr)
            if size > MAX_OUTPUT_BYTES:
                raise HostUnavailable(self.spec.name, f"the command sent more than {MAX_OUTPUT_BYTES:,} bytes of output: "
                                      "this is not the gpverify collector's answer (check the host)")
            out.append(stdout)
            err.append(stderr)
            if done:
                return CommandResult(code, b"".join(out), b"".join(err))
        if self.deadline.remaining() <= 0:
            raise HostUnavailable(self.spec.name, deadline_sentence(self.spec, "reading output"))
        raise HostUnavailable(self.spec.name, "the command did not finish within winrm.read_timeout: the host is "
                              "overloaded or the collector hangs (see its event log), or raise winrm.read_timeout")

    def close(self) -> None:
        """Delete the shell; the shell's commands end with it, so no Signal is needed."""
        try:
            if self._shell is not None:
                shell, self._shell = self._shell, None
                try:
                    self._protocol.close_shell(shell)
                except Exception:  # noqa: BLE001, S110 - the facts are read; an undeleted shell times out on the host
                    pass
        finally:
            self.deadline.cancel()
            with contextlib.suppress(Exception):
                self._protocol.transport.close_session()


# Transports pywinrm only offers with an optional package; the message names what to install.
OPTIONAL_PACKAGES = {
    "kerberos": ("HAVE_KERBEROS", "pykerberos", ("pip install 'pywinrm[kerberos]' (needs libkrb5-dev and a "
                                                 "Kerberos ticket from kinit, or a keytab)")),
    "credssp": ("HAVE_CREDSSP", "requests-credssp", "pip install 'pywinrm[credssp]'"),
}
# Message encryption needs an authentication that can seal: NTLM, Kerberos or CredSSP (never Basic or certificate).
SEALING = ("ntlm", "kerberos", "credssp")


def _refuse(spec: HostSpec, reason: str) -> HostUnavailable:
    return HostUnavailable(spec.name, reason)


def protocol_options(spec: HostSpec, password: str | None) -> dict[str, Any]:
    """The pywinrm Protocol arguments for a host, after refusing every unsafe or impossible combination."""
    w = spec.winrm
    transport = w.transport or "ntlm"
    scheme = w.scheme or "https"
    encryption = w.message_encryption or "auto"
    if transport == "basic" and scheme == "http" and not w.allow_basic_over_http:
        raise _refuse(spec, "Basic authentication over plain HTTP is refused (the password would travel in clear): "
                      "use HTTPS, or set winrm.allow_basic_over_http: true")
    if transport in SEALING and scheme == "http" and encryption == "never" and not w.allow_unencrypted:
        raise _refuse(spec, f"message_encryption: never over plain HTTP is refused ({transport} would send every "
                      "command and answer in clear): use message_encryption: auto, or HTTPS")
    if transport == "certificate":
        if scheme != "https":
            raise _refuse(spec, "certificate authentication works only over HTTPS: set winrm.scheme: https")
        if not (w.cert_pem and w.cert_key_pem):
            raise _refuse(spec, "certificate authentication needs winrm.cert_pem and winrm.cert_key_pem "
                          "(the client certificate and its key, PEM files)")
    if transport in OPTIONAL_PACKAGES:
        flag, package, how = OPTIONAL_PACKAGES[transport]
        from winrm import transport as winrm_transport

        if not getattr(winrm_transport, flag, False):
            raise _refuse(spec, f"winrm.transport {transport} needs the Python package {package}, which is not "
                          f"installed: {how}")
    options: dict[str, Any] = {
        "endpoint": spec.endpoint,
        "transport": transport,
        "username": w.user,
        "password": password,
        "server_cert_validation": "validate" if w.cert_validation is not False else "ignore",
        "ca_trust_path": w.ca_bundle,  # None: requests' own CA store (pywinrm's "legacy_requests" warns)
        "message_encryption": encryption,
        "read_timeout_sec": w.read_timeout or 60,
        "operation_timeout_sec": w.operation_timeout or 20,
        "proxy": resolve_proxy(spec),
    }
    if transport == "ntlm" and password:
        options.update(password=ntlm_secret(password))  # hashed once per run, not once per host
    if transport == "certificate":
        options.update(cert_pem=w.cert_pem, cert_key_pem=w.cert_key_pem, username=None, password=None)
    if transport == "kerberos":
        options.update(password=None)  # Kerberos uses the ticket cache (kinit) or keytab, never a password here
    return options


@functools.cache
def environment_proxies() -> dict[str, str]:
    """The proxy variables of the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY), read once per run."""
    return urllib.request.getproxies()


def resolve_proxy(spec: HostSpec) -> str | None:
    """The proxy URL for this host's endpoint, or None to connect directly: winrm.proxy, else the environment's
    proxy for it (NO_PROXY honoured as requests honours it); once per host, never per request."""
    setting = spec.winrm.proxy or "environment"
    if setting == "none":
        return None
    if setting != "environment":
        return setting
    if not set(environment_proxies()) - {"no"}:  # no proxy variable set: nothing to look up for any host
        return None
    return requests.utils.select_proxy(spec.endpoint, requests.utils.get_environ_proxies(spec.endpoint)) or None


def _tls_hint(text: str, spec: HostSpec) -> str:
    low = text.lower()
    if "match" in low and ("hostname" in low or "ip address" in low):
        return (f"the host's TLS certificate does not match the name connected to ({spec.address}): connect by a "
                "name the certificate lists (set the host's address), or reissue the WinRM HTTPS listener "
                "certificate for this name")
    if "expired" in low:
        return "the host's TLS certificate has expired: renew the WinRM HTTPS listener certificate"
    if "self-signed" in low or "self signed" in low or "unable to get local issuer" in low or "verify failed" in low:
        where = f"winrm.ca_bundle ({spec.winrm.ca_bundle})" if spec.winrm.ca_bundle else "winrm.ca_bundle"
        return (f"the host's TLS certificate is not trusted: set {where} to the PEM of the CA that issued it "
                "(for a self-signed listener, the certificate itself)")
    return f"TLS handshake failed ({text.splitlines()[0][:160] if text else 'no detail'}): check the HTTPS listener"


def _connection_hint(text: str, spec: HostSpec) -> str:
    low = text.lower()
    if "name or service not known" in low or "getaddrinfo" in low or "nodename nor servname" in low \
            or "failed to resolve" in low or "name resolution" in low:
        return f"the name {spec.address!r} does not resolve: check DNS or set the host's address"
    if "refused" in low:
        return f"connection refused at {spec.endpoint}: is the WinRM listener on (winrm quickconfig) and the port open?"
    if "reset" in low or "aborted" in low or "remotedisconnected" in low:
        return ("the connection was reset while talking to WinRM: check for a firewall or proxy cutting "
                "long requests, and the host's WinRM event log")
    return f"cannot reach WinRM at {spec.endpoint}"


def _credentials_hint(spec: HostSpec) -> str:
    w = spec.winrm
    if w.transport == "certificate":
        return ("the client certificate was rejected: map it to a local account on the host (winrm create "
                "winrm/config/service/certmapping ...) and enable WinRM certificate authentication "
                "(Auth/Certificate=true)")
    source = (f"environment variable {w.password_env}" if w.password_env else
              f"keyring entry {w.password_keyring}" if w.password_keyring else
              "the prompt" if w.password_prompt else "no password source")
    return (f"credentials rejected for user {w.user!r} over {w.transport}: check the account name, its password "
            f"(from {source}), and that the WinRM service allows {w.transport} (Auth/{_auth_name(w.transport)})")


def _auth_name(transport: str | None) -> str:
    return {"ntlm": "Negotiate", "kerberos": "Kerberos", "credssp": "CredSSP", "basic": "Basic",
            "certificate": "Certificate"}.get(transport or "ntlm", "Negotiate")


def _setup_hint(exc: BaseException, spec: HostSpec) -> str:
    """pywinrm's own up-front validation (no network yet): its texts carry file names, never secrets."""
    text = str(exc)
    if "requires a password" in text:
        return (f"no password for user {spec.winrm.user!r}: set winrm.password_env, winrm.password_keyring or "
                "winrm.password_prompt")
    if "requires a username" in text:
        return "no user name: set winrm.user"
    if "not found" in text or "cert_pem" in text:
        return f"client certificate files unusable ({text[:200]}): check winrm.cert_pem and winrm.cert_key_pem"
    if "not installed" in text:
        return f"{text[:200]}: install the package named"
    return f"cannot prepare the WinRM connection ({type(exc).__name__}): check the host's winrm settings"


def deadline_sentence(spec: HostSpec, action: str) -> str:
    return (f"the host did not finish within its deadline of {spec.winrm.deadline or 300:g} s (winrm.deadline) "
            f"while {action}: it answers too slowly or trickles its answer; check the host and the network, or "
            "raise winrm.deadline")


def explain_unexpected(exc: BaseException, spec: HostSpec, action: str) -> str:
    """An exception no WinRM listener should cause: say the endpoint is not behaving as WinRM, never its text."""
    if isinstance(exc, AttributeError) and "wrap" in str(exc):
        # pywinrm set up message encryption after a 200 that never asked for authentication (no NTLM context).
        return (f"the endpoint {spec.endpoint} answered without asking for authentication while {action}: it is "
                "not a WinRM listener (a web site, for example IIS's default page, on this port?); check the "
                "address and winrm.port")
    if isinstance(exc, (ValueError, TypeError, KeyError, IndexError)) or "spnego" in type(exc).__module__:
        return (f"the endpoint {spec.endpoint} sent an authentication answer that is not NTLM/Negotiate while "
                f"{action} ({type(exc).__name__}): check that it is a Windows WinRM listener and that "
                "Negotiate authentication is enabled (Auth/Negotiate)")
    return f"the endpoint {spec.endpoint} answered in a way WinRM never does while {action} ({type(exc).__name__})"


def explain(exc: BaseException, spec: HostSpec, action: str) -> str:
    """One sentence saying what failed and what to fix; never includes a credential."""
    w = spec.winrm
    if isinstance(exc, DeadlinePassed):
        return deadline_sentence(spec, action)
    if isinstance(exc, NotWinRM):
        return (f"the endpoint {spec.endpoint} answered {exc} while {action}: it is a web site, not a WinRM "
                "listener (IIS's default site on this port?); check the address and winrm.port, and that WinRM "
                "listens there (winrm enumerate winrm/config/listener)")
    if isinstance(exc, ResponseTooLarge):
        return (f"the endpoint {spec.endpoint} sent an answer too large for WS-Management while {action} ({exc}): "
                "it is not a WinRM listener, or something on the path rewrites answers")
    if action == "preparing the connection" and not isinstance(exc, requests.RequestException):
        return _setup_hint(exc, spec)
    if isinstance(exc, requests.exceptions.SSLError):
        return _tls_hint(str(exc), spec)
    if isinstance(exc, requests.exceptions.ConnectTimeout) and "accepted" in str(exc):
        return (f"the host accepted the connection but sent no answer within {w.connect_timeout or 10:g} s while "
                f"{action} (winrm.connect_timeout): is something other than WinRM listening on {spec.endpoint}?")
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return (f"no connection within {w.connect_timeout or 10:g} s while {action} (winrm.connect_timeout): the "
                "host or a firewall drops the connection; check the port and the firewall")
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return f"no answer within {w.read_timeout:g} s while {action} (host slower than winrm.read_timeout)"
    if isinstance(exc, (requests.exceptions.ConnectionError, OSError)):
        return _connection_hint(str(exc), spec)
    if isinstance(exc, BasicAuthDisabledError):
        return ("the host does not accept Basic authentication: enable it (winrm set winrm/config/service/auth "
                "@{Basic=\"true\"}) or use transport ntlm")
    if isinstance(exc, InvalidCredentialsError):
        return _credentials_hint(spec)
    if isinstance(exc, WinRMOperationTimeoutError):
        return f"the command produced no output within the WS-Man operation timeout while {action}"
    if isinstance(exc, WSManFaultError):
        return f"WS-Management fault while {action}: {(exc.reason or '').strip() or exc.code}"
    if isinstance(exc, WinRMTransportError):
        if exc.code == 500 and w.scheme == "http" and w.message_encryption == "never":
            return ("the host refused an unencrypted request (AllowUnencrypted=false, as it should be): set "
                    "winrm.message_encryption: auto, or use HTTPS")
        if exc.code == 401:
            return _credentials_hint(spec)
        return f"the WinRM service answered HTTP {exc.code} while {action}: check the listener and its event log"
    if isinstance(exc, WinRMError) and "encrypt" in str(exc).lower():
        return (f"message encryption is not possible with transport {w.transport}: use HTTPS, or ntlm/kerberos/"
                "credssp over HTTP")
    return f"WinRM error while {action}: {type(exc).__name__}"

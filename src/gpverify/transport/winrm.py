"""WinRM transport over real pywinrm: one shell per host, commands fed through stdin."""

from __future__ import annotations

import contextlib
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
from gpverify.transport import sentences
from gpverify.transport.base import (
    CommandResult,
    Received,
    ReceiveTimedOut,
    at_once,
    drive,
    encoded_command,
    pause_blocking,
    receive_all,
    stdin_chunks,
)
from gpverify.transport.bounded import (
    BoundedAdapter,
    DeadlinePassed,
    HostDeadline,
    NotWinRM,
    ResponseTooLarge,
)
from gpverify.transport.ntlm import ntlm_secret
from gpverify.transport.settings import SEALING, environment_proxies, refuse_unsafe, resolve_proxy
from gpverify.transport.upfront import UpFrontNegotiateAuth

__all__ = [
    "SEALING",
    "WinRMTransport",
    "encoded_command",
    "environment_proxies",
    "explain",
    "protocol_options",
    "resolve_proxy",
]

# Everything pywinrm and requests raise for a host that cannot be used (WinRMTransportError and
# WinRMOperationTimeoutError do not derive from WinRMError).
WINRM_FAILURES = (requests.RequestException, WinRMError, WinRMTransportError, WinRMOperationTimeoutError, OSError)


class _BoundedTransport(Transport):
    """pywinrm's Transport, its session prepared before the first request is sent: gpverify's bounded adapter,
    NTLM with Negotiate up front, and the proxy resolved once (no environment lookup per request)."""

    def __init__(self, adapter: BoundedAdapter, **options: Any) -> None:
        super().__init__(**options)
        self.bounded_adapter = adapter

    def _mount(self, session: requests.Session) -> None:
        if session.adapters.get("http://") is not self.bounded_adapter:
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


class _BoundedProtocol(Protocol):
    """pywinrm's Protocol over the bounded transport: pywinrm validates the options and builds its own Transport
    (no network yet), which is then replaced by the same Transport subclassed with gpverify's bounds."""

    def __init__(self, adapter: BoundedAdapter, options: dict[str, Any]) -> None:
        super().__init__(**options)
        self.transport = _BoundedTransport(
            adapter,
            endpoint=options["endpoint"],
            username=options["username"],
            password=options["password"],
            ca_trust_path=options["ca_trust_path"],
            cert_pem=options.get("cert_pem"),
            cert_key_pem=options.get("cert_key_pem"),
            read_timeout_sec=self.read_timeout_sec,
            server_cert_validation=options["server_cert_validation"],
            auth_method=options["transport"],
            message_encryption=options["message_encryption"],
            proxy=options["proxy"],
        )


class WinRMTransport:
    """An open WinRM shell on one host; every failure becomes HostUnavailable naming the host."""

    def __init__(self, spec: HostSpec, password: str | None) -> None:
        self.spec = spec
        options = protocol_options(spec, password)
        # Started once the options are accepted: connect, authenticate and collect all count against it.
        self.deadline = HostDeadline(spec.winrm.deadline or 300)
        adapter = BoundedAdapter(self.deadline, spec.winrm.connect_timeout or 10)
        self._protocol = self._connect(spec, adapter, options)
        self._shell: str | None = None

    def _connect(self, spec: HostSpec, adapter: BoundedAdapter, options: dict[str, Any]) -> Protocol:
        try:
            return _BoundedProtocol(adapter, options)
        except (WinRMError, ValueError) as exc:  # pywinrm validates credentials and cert files up front
            self.deadline.cancel()
            raise HostUnavailable(spec.name, explain(exc, spec, "preparing the connection")) from None
        except Exception as exc:  # noqa: BLE001 - anything else pywinrm raises on odd settings: one sentence
            self.deadline.cancel()
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
            return sentences.deadline(self.spec, action)
        if isinstance(exc, WINRM_FAILURES):
            return explain(exc, self.spec, action)
        return explain_unexpected(exc, self.spec, action)

    def run(self, command: str, args: list[str], stdin: bytes | None = None) -> CommandResult:
        """Run one command in this host's shell (opened on first use), feeding stdin if given."""
        if self._shell is None:
            self._shell = self._guard("opening a shell", self._protocol.open_shell)
        command_id = self._guard("starting the command", self._protocol.run_command, self._shell, command, args)
        for chunk, last in stdin_chunks(stdin):
            self._guard("sending input", self._protocol.send_command_input, self._shell, command_id, chunk, last)
        steps = receive_all(self.spec, lambda: at_once(lambda: self._receive(command_id)), self.deadline.remaining)
        return drive(steps, pause_blocking)

    def _receive(self, command_id: str) -> Received:
        """One Receive (transport/base.py: receive_all asks until the command is done)."""
        assert self._shell is not None
        try:
            stdout, stderr, code, done = self._protocol.get_command_output_raw(self._shell, command_id)
        except WinRMOperationTimeoutError:  # w:TimedOut: nothing yet
            raise ReceiveTimedOut() from None
        except Exception as exc:  # noqa: BLE001 - see _guard
            raise HostUnavailable(self.spec.name, self._explain(exc, "reading output")) from None
        return Received(stdout, stderr, done, code)

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
    "kerberos": (
        "HAVE_KERBEROS",
        "pykerberos",
        ("pip install 'pywinrm[kerberos]' (needs libkrb5-dev and a Kerberos ticket from kinit, or a keytab)"),
    ),
    "credssp": ("HAVE_CREDSSP", "requests-credssp", "pip install 'pywinrm[credssp]'"),
}


def protocol_options(spec: HostSpec, password: str | None) -> dict[str, Any]:
    """The pywinrm Protocol arguments for a host, after refusing every unsafe or impossible combination."""
    refuse_unsafe(spec)
    w = spec.winrm
    transport = w.transport or "ntlm"
    if transport in OPTIONAL_PACKAGES:
        flag, package, how = OPTIONAL_PACKAGES[transport]
        from winrm import transport as winrm_transport

        if not getattr(winrm_transport, flag, False):
            raise HostUnavailable(
                spec.name,
                f"winrm.transport {transport} needs the Python package {package}, which is not installed: {how}",
            )
    options: dict[str, Any] = {
        "endpoint": spec.endpoint,
        "transport": transport,
        "username": w.user,
        "password": password,
        "server_cert_validation": "validate" if w.cert_validation is not False else "ignore",
        "ca_trust_path": w.ca_bundle,  # None: requests' own CA store (pywinrm's "legacy_requests" warns)
        "message_encryption": w.message_encryption or "auto",
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


def _setup_hint(exc: BaseException, spec: HostSpec) -> str:
    """pywinrm's own up-front validation (no network yet): its texts carry file names, never secrets."""
    text = str(exc)
    if "requires a password" in text:
        return sentences.no_password(spec)
    if "requires a username" in text:
        return sentences.no_user()
    if "not found" in text or "cert_pem" in text:
        return f"client certificate files unusable ({text[:200]}): check winrm.cert_pem and winrm.cert_key_pem"
    if "not installed" in text:
        return f"{text[:200]}: install the package named"
    return f"cannot prepare the WinRM connection ({type(exc).__name__}): check the host's winrm settings"


def explain_unexpected(exc: BaseException, spec: HostSpec, action: str) -> str:
    """An exception no WinRM listener should cause: say the endpoint is not behaving as WinRM, never its text."""
    if isinstance(exc, AttributeError) and "wrap" in str(exc):
        # pywinrm set up message encryption after a 200 that never asked for authentication (no NTLM context).
        return sentences.unauthenticated(spec, action)
    if isinstance(exc, (ValueError, TypeError, KeyError, IndexError)) or "spnego" in type(exc).__module__:
        return sentences.not_ntlm(spec, action, type(exc).__name__)
    return sentences.not_winrm_behaviour(spec, action, type(exc).__name__)


def explain(exc: BaseException, spec: HostSpec, action: str) -> str:
    """One sentence saying what failed and what to fix; never includes a credential."""
    if action == "preparing the connection" and not isinstance(exc, (requests.RequestException, *_OURS)):
        return _setup_hint(exc, spec)
    for explainer in (_explain_ours, _explain_network, _explain_pywinrm):
        if (sentence := explainer(exc, spec, action)) is not None:
            return sentence
    return f"WinRM error while {action}: {type(exc).__name__}"


_OURS = (DeadlinePassed, NotWinRM, ResponseTooLarge)


def _explain_ours(exc: BaseException, spec: HostSpec, action: str) -> str | None:
    """gpverify's own bounds: the host's deadline, an endpoint that is not WinRM, a response over the limit."""
    if isinstance(exc, DeadlinePassed):
        return sentences.deadline(spec, action)
    if isinstance(exc, NotWinRM):
        return sentences.not_winrm(spec, str(exc), action)
    if isinstance(exc, ResponseTooLarge):
        return sentences.too_large(spec, str(exc), action)
    return None


def _explain_network(exc: BaseException, spec: HostSpec, action: str) -> str | None:
    """TLS, connecting and waiting: the network between gpverify and the host."""
    if isinstance(exc, requests.exceptions.SSLError):
        return sentences.tls(str(exc), spec)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        accepted = "accepted" in str(exc)
        return sentences.silent_host(spec, action) if accepted else sentences.no_connection(spec, action)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return sentences.no_answer(spec, action)
    if isinstance(exc, (requests.exceptions.ConnectionError, OSError)):
        return sentences.connection(str(exc), spec)
    return None


def _explain_pywinrm(exc: BaseException, spec: HostSpec, action: str) -> str | None:
    """What the WinRM service answered: authentication, faults, HTTP statuses."""
    w = spec.winrm
    if isinstance(exc, BasicAuthDisabledError):
        return sentences.basic_disabled()
    if isinstance(exc, InvalidCredentialsError):
        return sentences.credentials(spec)
    if isinstance(exc, WinRMOperationTimeoutError):
        return sentences.operation_timeout(action)
    if isinstance(exc, WSManFaultError):
        return sentences.wsman_fault((exc.reason or "").strip() or str(exc.code), action)
    if isinstance(exc, WinRMTransportError):
        if exc.code == 500 and w.scheme == "http" and w.message_encryption == "never":
            return sentences.unencrypted_refused()
        return sentences.credentials(spec) if exc.code == 401 else sentences.http_status(exc.code, action)
    if isinstance(exc, WinRMError) and "encrypt" in str(exc).lower():
        return (
            f"message encryption is not possible with transport {w.transport}: use HTTPS, or ntlm/kerberos/"
            "credssp over HTTP"
        )
    return None

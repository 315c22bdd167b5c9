"""Basic and NTLM acceptance, HTTP message encryption and channel binding for the WS-Man stand-in."""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import shutil
import struct
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import spnego
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from spnego.channel_bindings import GssChannelBindings
from spnego.exceptions import SpnegoError

from gpverify.lab.wsman.faults import InvalidMessage

__all__ = [
    "ENCRYPTED_CONTENT_TYPE",
    "AuthConfig",
    "AuthResult",
    "ConnectionAuth",
    "NtlmUserFile",
    "channel_bindings_for",
    "is_encrypted",
    "tls_server_end_point",
]

Scheme = Literal["basic", "ntlm"]

SPNEGO_ENCRYPTED = "application/HTTP-SPNEGO-session-encrypted"
ENCRYPTED_CONTENT_TYPE = f'multipart/encrypted;protocol="{SPNEGO_ENCRYPTED}";boundary="Encrypted Boundary"'
BOUNDARY = b"--Encrypted Boundary"
_OCTET_HEADER = b"\tContent-Type: application/octet-stream\r\n"
_NTLM_NEGOTIATE = b"\x01\x00\x00\x00"  # MessageType field at offset 8 of an NTLMSSP message


@dataclass
class AuthConfig:
    """Which credentials and scheme one emulated WinRM listener accepts."""

    scheme: Scheme = "ntlm"
    username: str = "gpadmin"  # NTLM: compared case-insensitively; client sends LAB\gpadmin or plain gpadmin
    password: str = "Passw0rd!"
    domain: str = "LAB"
    require_encryption: bool = True  # only meaningful for ntlm over http (Windows AllowUnencrypted=false)
    also_accept: tuple[Scheme, ...] = ()  # e.g. ("basic",) on an HTTPS listener with Basic and Negotiate on

    def accepted(self) -> tuple[Scheme, ...]:
        """Schemes this listener accepts, the configured one first."""
        return (self.scheme, *(s for s in self.also_accept if s != self.scheme))

    def challenges(self) -> list[str]:
        """``WWW-Authenticate`` values for a 401: only enabled schemes, as Windows advertises them.

        A Basic-only listener does not advertise Negotiate: requests-ntlm would then
        start a handshake the listener cannot finish and fail with PermissionError
        instead of pywinrm's InvalidCredentialsError.
        """
        values = {"ntlm": "Negotiate", "basic": 'Basic realm="WSMAN"'}
        return [values[s] for s in ("ntlm", "basic") if s in self.accepted()]

    def principal_matches(self, principal: str | None) -> bool:
        """``LAB\\gpadmin`` or a bare ``gpadmin``, case-insensitive."""
        wanted = {f"{self.domain}\\{self.username}".upper(), self.username.upper()}
        return principal is not None and principal.upper() in wanted


@dataclass(frozen=True)
class AuthResult:
    """Outcome of checking one request's credentials."""

    ok: bool
    scheme: str  # "basic" | "ntlm" | "none"
    headers: list[tuple[str, str]] = field(default_factory=list)


PASSWORD_DIR_PREFIX = "gpverify-ntlm-"  # <temp>/gpverify-ntlm-<pid>-<random>/ntlm_users


class NtlmUserFile:
    """One listener's ``NTLM_USER_FILE`` (Heimdal lines ``DOMAIN:USER:PASSWORD``) in a temp dir it owns.

    pyspnego's NTLM acceptor takes credentials only from the env var
    ``NTLM_USER_FILE`` (pyspnego 0.12.4 ``spnego/_ntlm.py: _get_credential_file``,
    research A.8 item 2): it is checked when the acceptor is built and read again
    on the Authenticate leg. Environment variables are PROCESS-GLOBAL, so every
    acceptor call is made inside `activated`, which holds one process-wide lock,
    points the variable at this listener's file and restores the previous value.
    Listeners with different passwords for the same user can then coexist.
    Code outside this module that builds NTLM acceptors must not rely on the
    variable while a lab server runs.
    """

    _ENV_LOCK = threading.RLock()

    def __init__(self) -> None:
        # The owner's process id in the name: a killed lab's folder is removed by the next lab (lab/runtime.py).
        self._dir = Path(tempfile.mkdtemp(prefix=f"{PASSWORD_DIR_PREFIX}{os.getpid()}-"))
        self.path = self._dir / "ntlm_users"
        self._written: tuple[str, str, str] | None = None

    def write(self, config: AuthConfig) -> None:
        """(Re)write the file when the configured credentials changed."""
        creds = (config.domain, config.username, config.password)
        if creds == self._written:
            return
        if any(":" in v or "\n" in v for v in creds):
            raise ValueError("NTLM lab credentials may not contain ':' or newlines (NTLM_USER_FILE format)")
        # A second line with an empty domain accepts clients that send a bare user name.
        text = f"{config.domain}:{config.username}:{config.password}\n:{config.username}:{config.password}\n"
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o600)
        os.replace(tmp, self.path)
        self._written = creds

    @contextlib.contextmanager
    def activated(self) -> Iterator[None]:
        """Hold the process-wide lock with ``NTLM_USER_FILE`` pointing at this file."""
        with self._ENV_LOCK:
            previous = os.environ.get("NTLM_USER_FILE")
            os.environ["NTLM_USER_FILE"] = str(self.path)
            try:
                yield
            finally:
                # Never remove the variable: another thread (requests looking up proxies) may be iterating
                # os.environ, and a key that disappears under it raises KeyError there. os.devnull holds no
                # credentials, so a leftover value accepts nobody.
                os.environ["NTLM_USER_FILE"] = os.devnull if previous is None else previous

    def remove(self) -> None:
        """Delete the temp dir (called when the server stops)."""
        shutil.rmtree(self._dir, ignore_errors=True)


def tls_server_end_point(cert_der: bytes) -> bytes:
    """RFC 5929 hash of the server cert, with requests-ntlm's rule: MD5/SHA-1/unknown become SHA-256."""
    cert = x509.load_der_x509_certificate(cert_der)
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        algorithm = None
    if algorithm is None or algorithm.name in ("md5", "sha1"):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(cert_der)
    return digest.finalize()


def channel_bindings_for(cert_der: bytes) -> GssChannelBindings:
    """The channel binding requests-ntlm sends over HTTPS (research A.7, A.8 item 3)."""
    return GssChannelBindings(application_data=b"tls-server-end-point:" + tls_server_end_point(cert_der))


def is_encrypted(content_type: str) -> bool:
    """True for MS-WSMV 2.2.9.1 SPNEGO-encrypted bodies."""
    lowered = content_type.lower()
    return lowered.startswith("multipart/encrypted") and f'protocol="{SPNEGO_ENCRYPTED.lower()}"' in lowered


class ConnectionAuth:
    """Auth state of ONE TCP connection: NTLM authenticates the connection, not the request (research G)."""

    def __init__(
        self, config: AuthConfig, users: NtlmUserFile | None, channel_bindings: GssChannelBindings | None
    ) -> None:
        self.config = config
        self.users = users
        self.channel_bindings = channel_bindings
        self.ntlm_ready = False
        self._ctx: spnego.ContextProxy | None = None

    def authenticate(self, authorization: str | None) -> AuthResult:
        """Check one request's ``Authorization`` header; a 401 result carries the challenge headers."""
        word, _, token = (authorization or "").strip().partition(" ")
        accepted = self.config.accepted()
        if word.lower() == "basic" and "basic" in accepted:
            return self._basic(token)
        if word.lower() in ("negotiate", "ntlm") and "ntlm" in accepted:
            return self._ntlm_step(word, token)
        if self.ntlm_ready and not authorization:
            return AuthResult(True, "ntlm")
        return self._challenge()

    def _challenge(self, *, reset: bool = False) -> AuthResult:
        if reset:
            self._ctx, self.ntlm_ready = None, False
        return AuthResult(False, "none", [("WWW-Authenticate", v) for v in self.config.challenges()])

    def _basic(self, token: str) -> AuthResult:
        """Pre-emptive Basic (pywinrm ``HTTPBasicAuth``); ``user`` or ``DOMAIN\\user``."""
        try:
            user, _, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return self._challenge()
        if self.config.principal_matches(user) and password == self.config.password:
            return AuthResult(True, "basic")
        return self._challenge()

    def _ntlm_step(self, word: str, token: str) -> AuthResult:
        """One NTLM leg with pyspnego as acceptor (research A.8 item 2)."""
        try:
            raw = base64.b64decode(token, validate=True)
        except binascii.Error:
            return self._challenge(reset=True)
        if self.users is None:  # connection raced a stop(): no credential file any more
            return self._challenge(reset=True)
        try:
            with self.users.activated():
                # A NEGOTIATE_MESSAGE (type 1, MS-NLMP 2.2.1.1) always starts a fresh handshake.
                if self._ctx is None or self.ntlm_ready or raw[8:12] == _NTLM_NEGOTIATE:
                    self.users.write(self.config)
                    self._ctx, self.ntlm_ready = self._new_acceptor(), False
                out = self._ctx.step(raw)
        except (SpnegoError, ValueError, struct.error):  # wrong password, unknown user, bad CBT, garbage
            return self._challenge(reset=True)
        if not self._ctx.complete:
            # Echo the scheme word the client used (requests-ntlm looks for "<word> <token>").
            return AuthResult(
                False, "none", [("WWW-Authenticate", f"{word} {base64.b64encode(out or b'').decode()}")]
            )
        if not self.config.principal_matches(self._ctx.client_principal):
            return self._challenge(reset=True)
        self.ntlm_ready = True
        return AuthResult(True, "ntlm")

    def _new_acceptor(self) -> spnego.ContextProxy:
        # use_ntlm forces pyspnego's pure-Python NTLM even if gss-ntlmssp is installed.
        return spnego.server(
            protocol="ntlm", channel_bindings=self.channel_bindings, options=spnego.NegotiateOptions.use_ntlm
        )

    # ------------------------------------------------------------ message encryption (research A.7)

    def unwrap(self, body: bytes) -> bytes:
        """Decrypt a single-part ``multipart/encrypted`` body (CredSSP's x-multi-encrypted: not emulated)."""
        if self._ctx is None or not self.ntlm_ready:
            raise InvalidMessage(
                "An encrypted body arrived on a connection without an NTLM security context."
            )
        parts = [p for p in body.split(BOUNDARY + b"\r\n") if p]
        if len(parts) != 2 or not (match := re.search(rb"Length=(\d+)", parts[0])):
            raise InvalidMessage("The multipart/encrypted body does not have the MS-WSMV 2.2.9.1 shape.")
        payload = parts[1].removesuffix(BOUNDARY + b"--\r\n").removeprefix(_OCTET_HEADER)
        if len(payload) < 20:
            raise InvalidMessage("The encrypted payload is too short to hold an NTLM signature.")
        (sig_len,) = struct.unpack("<I", payload[:4])
        try:
            plain = self._ctx.unwrap(payload[4 : 4 + sig_len] + payload[4 + sig_len :]).data
        except SpnegoError as exc:
            raise InvalidMessage(f"The encrypted body failed NTLM signature checks: {exc}") from exc
        if len(plain) != int(match.group(1)):
            raise InvalidMessage("The decrypted length does not match OriginalContent Length.")
        return plain

    def wrap(self, plain: bytes) -> bytes:
        """Encrypt a response body; pair it with `ENCRYPTED_CONTENT_TYPE` or pywinrm reads it as plaintext."""
        if self._ctx is None or not self.ntlm_ready:
            raise RuntimeError("wrap() needs an authenticated NTLM connection")
        sealed = self._ctx.wrap(plain, encrypt=True).data  # first 16 bytes: NTLM signature
        original = f"type=application/soap+xml;charset=UTF-8;Length={len(plain)}".encode()
        header = b"\tContent-Type: %s\r\n\tOriginalContent: %s\r\n" % (SPNEGO_ENCRYPTED.encode(), original)
        payload = _OCTET_HEADER + struct.pack("<I", 16) + sealed
        return BOUNDARY + b"\r\n" + header + BOUNDARY + b"\r\n" + payload + BOUNDARY + b"--\r\n"

"""Basic and NTLM acceptance, HTTP message encryption and channel binding for the WS-Man stand-in."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass, field
from typing import Literal

from spnego.channel_bindings import GssChannelBindings

from gpverify.lab.wsman import negotiate
from gpverify.lab.wsman.faults import InvalidMessage
from gpverify.lab.wsman.ntlm import AuthFailed, NtlmAcceptor, NtlmSession, Principal
from gpverify.transport.ntlm import nt_hash

__all__ = [
    "ENCRYPTED_CONTENT_TYPE",
    "AuthConfig",
    "AuthResult",
    "ConnectionAuth",
    "is_encrypted",
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


def bindings_hash(bindings: GssChannelBindings) -> bytes:
    """What a client puts in MsvAvChannelBindings: MD5 of the gss_channel_bindings_struct (MS-NLMP 2.2.2.1)."""
    return hashlib.md5(bindings.pack()).digest()  # MD5: the hash MS-NLMP defines


def is_encrypted(content_type: str) -> bool:
    """True for MS-WSMV 2.2.9.1 SPNEGO-encrypted bodies."""
    lowered = content_type.lower()
    return lowered.startswith("multipart/encrypted") and f'protocol="{SPNEGO_ENCRYPTED.lower()}"' in lowered


class ConnectionAuth:
    """Auth state of ONE TCP connection: NTLM authenticates the connection, not the request (research G).

    The acceptor is the lab's own (lab/wsman/ntlm.py): no credential file, no process-wide state, the account's
    keys derived once per password; raw NTLM tokens and SPNEGO-wrapped ones (lab/wsman/negotiate.py) both work.
    """

    def __init__(self, config: AuthConfig, channel_bindings: GssChannelBindings | None, machine: str = "") -> None:
        self.config = config
        self.channel_bindings = channel_bindings
        self.machine = machine
        self.ntlm_ready = False
        self._acceptor: NtlmAcceptor | None = None
        self._session: NtlmSession | None = None
        self._spnego: negotiate.NegToken | None = None  # the NegTokenInit of a SPNEGO handshake in progress

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
            self._acceptor, self._session, self._spnego, self.ntlm_ready = None, None, None, False
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
        """One leg of NTLM, raw or inside SPNEGO; any failure (wrong password, bad CBT, garbage) is a 401."""
        try:
            raw = base64.b64decode(token, validate=True)
            answer = self._spnego_step(raw) if negotiate.is_spnego(raw) else self._raw_step(raw)
        except (binascii.Error, AuthFailed, negotiate.SpnegoError, ValueError, struct.error, IndexError):
            return self._challenge(reset=True)
        if not self.ntlm_ready:
            # Echo the scheme word the client used (requests-ntlm looks for "<word> <token>").
            return AuthResult(False, "none", [("WWW-Authenticate", f"{word} {base64.b64encode(answer).decode()}")])
        # A last SPNEGO token (accept-completed, the listener's mechListMIC) rides on the answer, as on Windows.
        headers = [("WWW-Authenticate", f"{word} {base64.b64encode(answer).decode()}")] if answer else []
        return AuthResult(True, "ntlm", headers)

    def _raw_step(self, raw: bytes) -> bytes:
        """A raw NTLM message: NEGOTIATE starts a handshake (MS-NLMP 2.2.1.1), AUTHENTICATE ends it."""
        if self._acceptor is None or self.ntlm_ready or raw[8:12] == _NTLM_NEGOTIATE:
            self._acceptor, self._session, self.ntlm_ready = self._new_acceptor(), None, False
            return self._acceptor.challenge(raw)
        self._finish(raw)
        return b""

    def _spnego_step(self, raw: bytes) -> bytes:
        """SPNEGO: a NegTokenInit with the NTLM NEGOTIATE gets the CHALLENGE, a NegTokenResp with the
        AUTHENTICATE and mechListMIC gets accept-completed and the listener's own mechListMIC."""
        token = negotiate.parse(raw)
        if token.mech_types is not None:
            if not token.mechs or token.mechs[0] != negotiate.NTLM_OID or not token.token:
                raise negotiate.SpnegoError("NTLM is the only mechanism of this listener")
            self._acceptor, self._session, self.ntlm_ready = self._new_acceptor(), None, False
            self._spnego = token
            challenge = self._acceptor.challenge(token.token)
            return negotiate.response(negotiate.ACCEPT_INCOMPLETE, mech=negotiate.NTLM_OID, token=challenge)
        if self._spnego is None or self._acceptor is None or not token.token:
            raise negotiate.SpnegoError("a NegTokenResp outside a SPNEGO handshake")
        session = self._finish(token.token)
        mech_types = self._spnego.mech_types or b""
        if token.mic is None:
            return negotiate.response(negotiate.ACCEPT_COMPLETED)
        session.verify(mech_types, token.mic)  # MS-SPNG 3.1.5.1; then both sides restart their RC4 streams
        session.reset_streams(incoming=True, outgoing=False)
        mic = session.sign(mech_types)
        session.reset_streams(incoming=False, outgoing=True)
        return negotiate.response(negotiate.ACCEPT_COMPLETED, mic=mic)

    def _finish(self, authenticate: bytes) -> NtlmSession:
        assert self._acceptor is not None
        principal, session = self._acceptor.authenticate(authenticate)
        if not self.config.principal_matches(str(principal)):
            raise AuthFailed("another account")
        self._session, self.ntlm_ready = session, True
        return session

    def _new_acceptor(self) -> NtlmAcceptor:
        cbt = bindings_hash(self.channel_bindings) if self.channel_bindings is not None else None
        return NtlmAcceptor(self._account_hash, computer=self.machine, domain=self.config.domain, bindings_hash=cbt)

    def _account_hash(self, principal: Principal) -> bytes | None:
        """The NT hash of the listener's one account, if that is who the client says it is (its password's hash
        is computed once per process: transport/ntlm.py nt_hash)."""
        if not self.config.principal_matches(str(principal)):
            return None
        return nt_hash(self.config.password)

    # ------------------------------------------------------------ message encryption (research A.7)

    def unwrap(self, body: bytes) -> bytes:
        """Decrypt a single-part ``multipart/encrypted`` body (CredSSP's x-multi-encrypted: not emulated)."""
        if self._session is None or not self.ntlm_ready:
            raise InvalidMessage("An encrypted body arrived on a connection without an NTLM security context.")
        parts = [p for p in body.split(BOUNDARY + b"\r\n") if p]
        if len(parts) != 2 or not (match := re.search(rb"Length=(\d+)", parts[0])):
            raise InvalidMessage("The multipart/encrypted body does not have the MS-WSMV 2.2.9.1 shape.")
        payload = parts[1].removesuffix(BOUNDARY + b"--\r\n").removeprefix(_OCTET_HEADER)
        if len(payload) < 20:
            raise InvalidMessage("The encrypted payload is too short to hold an NTLM signature.")
        (sig_len,) = struct.unpack("<I", payload[:4])
        try:
            plain = self._session.unwrap(payload[4 : 4 + sig_len], payload[4 + sig_len :])
        except AuthFailed as exc:
            raise InvalidMessage(f"The encrypted body failed NTLM signature checks: {exc}") from exc
        if len(plain) != int(match.group(1)):
            raise InvalidMessage("The decrypted length does not match OriginalContent Length.")
        return plain

    def wrap(self, plain: bytes) -> bytes:
        """Encrypt a response body; pair it with `ENCRYPTED_CONTENT_TYPE` or pywinrm reads it as plaintext."""
        if self._session is None or not self.ntlm_ready:
            raise RuntimeError("wrap() needs an authenticated NTLM connection")
        signature, sealed = self._session.wrap(plain)
        original = f"type=application/soap+xml;charset=UTF-8;Length={len(plain)}".encode()
        header = b"\tContent-Type: %s\r\n\tOriginalContent: %s\r\n" % (SPNEGO_ENCRYPTED.encode(), original)
        payload = _OCTET_HEADER + struct.pack("<I", len(signature)) + signature + sealed
        return BOUNDARY + b"\r\n" + header + BOUNDARY + b"\r\n" + payload + BOUNDARY + b"--\r\n"

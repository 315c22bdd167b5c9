"""The lab's NTLM acceptor (MS-NLMP, NTLMv2 with extended session security), independent of the clients' pyspnego.

A Windows listener checks NTLM against its account database; the lab checks it against one account per
listener, whose keys are derived once per password (NTOWFv1, transport/ntlm.py) and once per user and domain
(NTOWFv2), never per handshake, and with no process-wide state: each connection has its own acceptor.
Sections cited are of [MS-NLMP] (learn.microsoft.com/openspecs/windows_protocols/ms-nlmp).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4
from cryptography.hazmat.primitives.ciphers import Cipher

__all__ = ["AuthFailed", "NtlmAcceptor", "NtlmSession", "ntowfv2"]

SIGNATURE = b"NTLMSSP\0"
# NegotiateFlags (2.2.2.5)
UNICODE, REQUEST_TARGET, SIGN, SEAL = 0x1, 0x4, 0x10, 0x20
NTLM, ALWAYS_SIGN, TARGET_TYPE_DOMAIN = 0x200, 0x8000, 0x10000
EXTENDED_SESSIONSECURITY, TARGET_INFO, VERSION = 0x80000, 0x800000, 0x2000000
KEY_128, KEY_EXCH, KEY_56 = 0x20000000, 0x40000000, 0x80000000
# What the lab grants of what a client asks (a Windows Server 2019 answer to pyspnego's NEGOTIATE_MESSAGE).
GRANTABLE = UNICODE | SIGN | SEAL | ALWAYS_SIGN | EXTENDED_SESSIONSECURITY | KEY_128 | KEY_EXCH | KEY_56
ALWAYS = REQUEST_TARGET | NTLM | TARGET_TYPE_DOMAIN | TARGET_INFO | VERSION
# AV_PAIR ids (2.2.2.1)
AV_EOL, AV_NB_COMPUTER, AV_NB_DOMAIN, AV_DNS_COMPUTER, AV_DNS_DOMAIN = 0, 1, 2, 3, 4
AV_FLAGS, AV_TIMESTAMP, AV_CHANNEL_BINDINGS = 6, 7, 10
MIC_PRESENT = 0x2  # MsvAvFlags bit: the AUTHENTICATE_MESSAGE carries a MIC
WINDOWS_VERSION = struct.pack("<BBH3xB", 10, 0, 17763, 15)  # 10.0.17763 (Server 2019), NTLMSSP revision 15
_FILETIME_EPOCH = 11644473600  # seconds from 1601-01-01 to 1970-01-01
# 3.4.5.2 SIGNKEY and 3.4.5.3 SEALKEY magic constants
_CLIENT_SIGN = b"session key to client-to-server signing key magic constant\0"
_SERVER_SIGN = b"session key to server-to-client signing key magic constant\0"
_CLIENT_SEAL = b"session key to client-to-server sealing key magic constant\0"
_SERVER_SEAL = b"session key to server-to-client sealing key magic constant\0"


class AuthFailed(Exception):
    """The AUTHENTICATE_MESSAGE does not prove the password, or is malformed; the text says which (no secret)."""


def _hmac_md5(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, "md5")


class _Mac:
    """HMAC_MD5 under one signing key, keyed once per session: each message copies the keyed state, where
    hmac.digest would set up OpenSSL's HMAC again and release and re-take the GIL on every call."""

    def __init__(self, key: bytes) -> None:
        self._keyed = hmac.new(key, digestmod=hashlib.md5)

    def __call__(self, *parts: bytes) -> bytes:
        mac = self._keyed.copy()
        for part in parts:
            mac.update(part)
        return mac.digest()


@functools.lru_cache(maxsize=64)
def ntowfv2(nt_hash: bytes, user: str, domain: str) -> bytes:
    """NTOWFv2 (3.3.2): HMAC_MD5(NTOWFv1, UNICODE(Uppercase(User) || UserDom)), once per account and domain."""
    return _hmac_md5(nt_hash, (user.upper() + domain).encode("utf-16-le"))


def _rc4(key: bytes) -> Callable[[bytes], bytes]:
    """An RC4 stream: each call continues where the last stopped, as NTLM's sealing handles do (3.4.3)."""
    return Cipher(ARC4(key), mode=None).encryptor().update


def _field(message: bytes, offset: int) -> bytes:
    """A (Len, MaxLen, BufferOffset) payload field (2.2.1) of a message."""
    length, _, start = struct.unpack_from("<HHI", message, offset)
    if start + length > len(message):
        raise AuthFailed("a field points past the end of the message")
    return message[start : start + length]


def _av_pairs(data: bytes) -> dict[int, bytes]:
    pairs: dict[int, bytes] = {}
    offset = 0
    while offset + 4 <= len(data):
        av_id, length = struct.unpack_from("<HH", data, offset)
        if av_id == AV_EOL:
            break
        pairs[av_id] = data[offset + 4 : offset + 4 + length]
        offset += 4 + length
    return pairs


def _av(av_id: int, value: bytes) -> bytes:
    return struct.pack("<HH", av_id, len(value)) + value


@dataclass(frozen=True)
class Principal:
    domain: str
    user: str

    def __str__(self) -> str:
        return f"{self.domain}\\{self.user}" if self.domain else self.user


class NtlmAcceptor:
    """One handshake on one connection: NEGOTIATE in, CHALLENGE out; AUTHENTICATE in, an NtlmSession out.

    :param nt_hash: which NT hash (NTOWFv1) the principal named has, None for an unknown one.
    :param bindings_hash: MD5 of the gss_channel_bindings_struct a client must bind (HTTPS with Extended
        Protection), or None when none is required.
    """

    def __init__(
        self, nt_hash: Callable[[Principal], bytes | None], *, computer: str, domain: str, bindings_hash: bytes | None
    ) -> None:
        self._nt_hash = nt_hash
        self._computer = computer.upper()[:15] or "GP-HOST"
        self._domain = domain.upper()
        self._bindings_hash = bindings_hash
        self._negotiate = self._challenge = b""
        self._server_challenge = b""

    def challenge(self, negotiate: bytes) -> bytes:
        """The CHALLENGE_MESSAGE (2.2.1.2) answering a NEGOTIATE_MESSAGE (2.2.1.1)."""
        if not negotiate.startswith(SIGNATURE) or len(negotiate) < 16 or negotiate[8:12] != b"\x01\0\0\0":
            raise AuthFailed("not an NTLM NEGOTIATE_MESSAGE")
        (asked,) = struct.unpack_from("<I", negotiate, 12)
        flags = (asked & GRANTABLE) | ALWAYS
        self._server_challenge = os.urandom(8)
        name = self._domain.encode("utf-16-le")
        info = b"".join(
            (
                _av(AV_NB_DOMAIN, name),
                _av(AV_NB_COMPUTER, self._computer.encode("utf-16-le")),
                _av(AV_DNS_DOMAIN, f"{self._domain.lower()}.local".encode("utf-16-le")),
                _av(AV_DNS_COMPUTER, f"{self._computer.lower()}.{self._domain.lower()}.local".encode("utf-16-le")),
                _av(AV_TIMESTAMP, struct.pack("<Q", int((time.time() + _FILETIME_EPOCH) * 10**7))),
                _av(AV_EOL, b""),
            )
        )
        head = 56
        self._challenge = b"".join(
            (
                SIGNATURE,
                struct.pack("<I", 2),
                struct.pack("<HHI", len(name), len(name), head),
                struct.pack("<I", flags),
                self._server_challenge,
                b"\0" * 8,
                struct.pack("<HHI", len(info), len(info), head + len(name)),
                WINDOWS_VERSION,
                name,
                info,
            )
        )
        self._negotiate = negotiate
        return self._challenge

    def authenticate(self, message: bytes) -> tuple[Principal, NtlmSession]:
        """Check an AUTHENTICATE_MESSAGE (2.2.1.3) by NTLMv2 (3.3.2, 3.2.5.1.2): proof, MIC, channel binding."""
        if not self._challenge:
            raise AuthFailed("an AUTHENTICATE_MESSAGE before any CHALLENGE_MESSAGE")
        if not message.startswith(SIGNATURE) or len(message) < 64 or message[8:12] != b"\x03\0\0\0":
            raise AuthFailed("not an NTLM AUTHENTICATE_MESSAGE")
        (flags,) = struct.unpack_from("<I", message, 60)
        text = "utf-16-le" if flags & UNICODE else "ascii"
        try:
            principal = Principal(_field(message, 28).decode(text), _field(message, 36).decode(text))
        except UnicodeDecodeError:
            raise AuthFailed("names that do not decode") from None
        response = _field(message, 20)
        if len(response) <= 24 or not principal.user:
            raise AuthFailed("not an NTLMv2 response (anonymous or NTLMv1 are refused)")
        nt_hash = self._nt_hash(principal)
        if nt_hash is None:
            raise AuthFailed("unknown account")
        key = ntowfv2(nt_hash, principal.user, principal.domain)
        proof, temp = response[:16], response[16:]
        if not hmac.compare_digest(proof, _hmac_md5(key, self._server_challenge + temp)):
            raise AuthFailed("wrong password")
        pairs = _av_pairs(temp[28:])
        self._check_bindings(pairs)
        session_key = self._session_key(message, flags, _hmac_md5(key, proof))
        self._check_mic(message, pairs, session_key)
        return principal, NtlmSession(flags, session_key)

    def _check_bindings(self, pairs: dict[int, bytes]) -> None:
        """Extended Protection (3.2.5.1.2): the client's MsvAvChannelBindings must be the listener's."""
        if self._bindings_hash is not None and pairs.get(AV_CHANNEL_BINDINGS) != self._bindings_hash:
            raise AuthFailed("channel bindings missing or wrong")

    @staticmethod
    def _session_key(message: bytes, flags: int, key_exchange_key: bytes) -> bytes:
        """ExportedSessionKey (3.2.5.1.2): the client's random key, RC4-encrypted with KeyExchangeKey."""
        if not flags & KEY_EXCH:
            return key_exchange_key
        encrypted = _field(message, 52)
        if len(encrypted) != 16:
            raise AuthFailed("no EncryptedRandomSessionKey")
        return _rc4(key_exchange_key)(encrypted)

    def _check_mic(self, message: bytes, pairs: dict[int, bytes], session_key: bytes) -> None:
        """The MIC over all three messages (3.1.5.1.2), at offset 72 after the Version field."""
        (av_flags,) = struct.unpack("<I", pairs.get(AV_FLAGS, b"\0\0\0\0")[:4].ljust(4, b"\0"))
        if not av_flags & MIC_PRESENT:
            return
        if len(message) < 88:
            raise AuthFailed("a MIC announced and missing")
        blank = message[:72] + b"\0" * 16 + message[88:]
        expected = _hmac_md5(session_key, self._negotiate + self._challenge + blank)
        if not hmac.compare_digest(message[72:88], expected):
            raise AuthFailed("the MIC does not match")


class NtlmSession:
    """Signing and sealing of an authenticated connection, seen from the server (3.4): what it receives is
    the client's direction, what it sends its own; each direction has its RC4 stream and sequence number."""

    def __init__(self, flags: int, session_key: bytes) -> None:
        if not flags & EXTENDED_SESSIONSECURITY:
            raise AuthFailed("no extended session security (an NTLMv1-era client)")
        seal_bytes = 16 if flags & KEY_128 else 7 if flags & KEY_56 else 5
        md5 = hashlib.md5  # MS-NLMP 3.4.5 defines the keys with MD5
        self._flags = flags
        self._in_sign = _Mac(md5(session_key + _CLIENT_SIGN).digest())
        self._out_sign = _Mac(md5(session_key + _SERVER_SIGN).digest())
        self._in_seal_key = md5(session_key[:seal_bytes] + _CLIENT_SEAL).digest()
        self._out_seal_key = md5(session_key[:seal_bytes] + _SERVER_SEAL).digest()
        self._in_rc4, self._out_rc4 = _rc4(self._in_seal_key), _rc4(self._out_seal_key)
        self._in_seq = self._out_seq = 0

    def _mac(self, rc4: Callable[[bytes], bytes], key: _Mac, seq: int, data: bytes) -> bytes:
        """MAC with extended session security (3.4.4.2): version 1, checksum, sequence number."""
        number = struct.pack("<I", seq)
        checksum = key(number, data)[:8]
        if self._flags & KEY_EXCH:
            checksum = rc4(checksum)
        return b"\x01\0\0\0" + checksum + number

    def wrap(self, data: bytes) -> tuple[bytes, bytes]:
        """SEAL (3.4.3) of an answer: (16-byte signature, sealed data)."""
        sealed = self._out_rc4(data)
        signature = self._mac(self._out_rc4, self._out_sign, self._out_seq, data)
        self._out_seq += 1
        return signature, sealed

    def unwrap(self, signature: bytes, sealed: bytes) -> bytes:
        """UNSEAL of a request: the data, once its signature checks out."""
        data = self._in_rc4(sealed)
        self.verify(data, signature)
        return data

    def sign(self, data: bytes) -> bytes:
        """A signature over data (the SPNEGO mechListMIC), consuming a sequence number."""
        signature = self._mac(self._out_rc4, self._out_sign, self._out_seq, data)
        self._out_seq += 1
        return signature

    def verify(self, data: bytes, signature: bytes) -> None:
        """Check a client's signature over data (its mechListMIC, or a sealed message once unsealed)."""
        expected = self._mac(self._in_rc4, self._in_sign, self._in_seq, data)
        if not hmac.compare_digest(signature, expected):
            raise AuthFailed("a message signature does not match")
        self._in_seq += 1

    def reset_streams(self, *, incoming: bool, outgoing: bool) -> None:
        """Restart an RC4 stream from its key, as after the SPNEGO mechListMIC (what pyspnego's and Windows'
        NTLM do once the MIC has been exchanged; the sequence numbers go on)."""
        if incoming:
            self._in_rc4 = _rc4(self._in_seal_key)
        if outgoing:
            self._out_rc4 = _rc4(self._out_seal_key)

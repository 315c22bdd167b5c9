"""SPNEGO around NTLM as a Windows listener takes it (RFC 4178, [MS-SPNG]): the few DER shapes it needs.

WinRM's "WWW-Authenticate: Negotiate" takes a raw NTLM token (what requests-ntlm sends) or one wrapped in SPNEGO
(what pypsrp's and .NET's Negotiate send): the first is a NegTokenInit (RFC 4178 4.2.1) whose mechToken is the
NTLM NEGOTIATE_MESSAGE, then a NegTokenResp (4.2.2) carrying the AUTHENTICATE_MESSAGE and the mechListMIC
([MS-SPNG] 3.1.5.1: required once NTLM put a MIC in its message). Only NTLM is offered, as on a listener
outside a domain.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NTLM_OID", "NegToken", "SpnegoError", "is_spnego", "parse", "response"]

SPNEGO_OID = bytes.fromhex("2b0601050502")  # 1.3.6.1.5.5.2
NTLM_OID = bytes.fromhex("2b06010401823702020a")  # 1.3.6.1.4.1.311.2.2.10
# negState (RFC 4178 4.2.2)
ACCEPT_COMPLETED, ACCEPT_INCOMPLETE, REJECT = 0, 1, 2


class SpnegoError(Exception):
    """Not SPNEGO of a shape a WinRM listener takes."""


@dataclass(frozen=True)
class NegToken:
    mech_types: bytes | None  # the MechTypeList as sent (DER), which the mechListMIC signs; None in a NegTokenResp
    mechs: tuple[bytes, ...]  # the OIDs offered (value bytes)
    token: bytes | None  # mechToken / responseToken: the NTLM message inside
    mic: bytes | None  # mechListMIC


def is_spnego(token: bytes) -> bool:
    """A NegTokenInit ([APPLICATION 0]) or a NegTokenResp ([1]), as against a raw "NTLMSSP" message."""
    return token[:1] in (b"\x60", b"\xa1")


def _tlv(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """(tag, value, offset after it) of one DER element."""
    if offset + 2 > len(data):
        raise SpnegoError("truncated")
    tag, length = data[offset], data[offset + 1]
    offset += 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 4 or offset + count > len(data):
            raise SpnegoError("bad length")
        length = int.from_bytes(data[offset : offset + count], "big")
        offset += count
    if offset + length > len(data):
        raise SpnegoError("truncated")
    return tag, data[offset : offset + length], offset + length


def _elements(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """(tag, value, whole encoding) of each element of a constructed value."""
    found, offset = [], 0
    while offset < len(data):
        tag, value, end = _tlv(data, offset)
        found.append((tag, value, data[offset:end]))
        offset = end
    return found


def _octets(value: bytes) -> bytes:
    tag, inner, _ = _tlv(value, 0)
    if tag != 0x04:
        raise SpnegoError("an OCTET STRING was expected")
    return inner


def parse(token: bytes) -> NegToken:
    """A NegTokenInit or NegTokenResp; SpnegoError for anything else."""
    tag, value, _ = _tlv(token, 0)
    if tag == 0x60:  # InitialContextToken: the SPNEGO OID, then [0] NegTokenInit
        elements = _elements(value)
        if len(elements) != 2 or elements[0][:2] != (0x06, SPNEGO_OID) or elements[1][0] != 0xA0:
            raise SpnegoError("not a SPNEGO NegTokenInit")
        tag, value, _ = _tlv(elements[1][1], 0)
    elif tag == 0xA1:
        tag, value, _ = _tlv(value, 0)
    else:
        raise SpnegoError("neither NegTokenInit nor NegTokenResp")
    if tag != 0x30:
        raise SpnegoError("a SEQUENCE was expected")
    return _fields(value)


def _fields(value: bytes) -> NegToken:
    mech_types: bytes | None = None
    mechs: tuple[bytes, ...] = ()
    token: bytes | None = None
    mic: bytes | None = None
    for tag, inner, _ in _elements(value):
        if tag == 0xA0 and inner[:1] == b"\x30":  # NegTokenInit mechTypes (NegTokenResp's [0] is negState)
            mech_types = inner
            mechs = tuple(oid for t, oid, _ in _elements(_tlv(inner, 0)[1]) if t == 0x06)
        elif tag == 0xA2:
            token = _octets(inner)
        elif tag == 0xA3:
            mic = _octets(inner)
    return NegToken(mech_types, mechs, token, mic)


def _der(tag: int, value: bytes) -> bytes:
    n = len(value)
    length = (
        bytes([n])
        if n < 0x80
        else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    )
    return bytes([tag]) + length + value


def response(state: int, *, mech: bytes | None = None, token: bytes | None = None, mic: bytes | None = None) -> bytes:
    """A NegTokenResp: negState, and supportedMech, responseToken, mechListMIC where given."""
    fields = _der(0xA0, _der(0x0A, bytes([state])))
    fields += _der(0xA1, _der(0x06, mech)) if mech else b""
    fields += _der(0xA2, _der(0x04, token)) if token is not None else b""
    fields += _der(0xA3, _der(0x04, mic)) if mic is not None else b""
    return _der(0xA1, _der(0x30, fields))

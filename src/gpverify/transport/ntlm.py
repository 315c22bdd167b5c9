"""A password's NTLM hashes, computed once per run from public algorithms (no private pyspnego module)."""

from __future__ import annotations

import functools
import hashlib
import struct

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

# MS-NLMP 3.3.1 (learn.microsoft.com/openspecs/windows_protocols/ms-nlmp/464551a8-9fc4-428e-b3d3-bc5bfb2e73a5):
# LMOWFv1 = DES(UpperCase(Passwd)[0..6], "KGS!@#$%") || DES(UpperCase(Passwd)[7..13], "KGS!@#$%").
_LM_MAGIC = b"KGS!@#$%"
_MASK = 0xFFFFFFFF


@functools.lru_cache(maxsize=32)
def ntlm_secret(password: str) -> str:
    """The password as "<LM hash hex>:<NT hash hex>", computed once per process (one run).

    pyspnego takes this form in place of a password (its lmowfv1/ntowfv1 recognise "^[0-9a-f]{32}:[0-9a-f]{32}$";
    requests-ntlm documents it as "Supports pass-the-hash"), so pywinrm's handshakes skip deriving both hashes per
    host, the LM one in pure-Python DES. The form is as secret as the password: the redactor masks it too
    (Redactor.for_farm), and tests/hardening searches every output for it.
    """
    return f"{lm_hash(password).hex()}:{nt_hash(password).hex()}"


@functools.lru_cache(maxsize=32)
def nt_hash(password: str) -> bytes:
    """NTOWFv1 = MD4(UNICODE(Passwd)) (MS-NLMP 3.3.1); OpenSSL 3 ships no MD4 by default, hence `md4` below."""
    return md4(password.encode("utf-16-le", errors="surrogatepass"))


def lm_hash(password: str) -> bytes:
    """LMOWFv1 exactly as pyspnego derives it: the upper-cased UTF-8 password, cut or padded to 14 bytes."""
    data = password.upper().encode("utf-8", errors="surrogatepass").ljust(14, b"\0")[:14]
    return _des(data[:7], _LM_MAGIC) + _des(data[7:], _LM_MAGIC)


def _des(key7: bytes, block: bytes) -> bytes:
    """One DES block with a 7-byte key spread over 8 bytes (parity bits unused); 3DES with K1=K2=K3 is DES."""
    bits = int.from_bytes(key7, "big")
    key = bytes(((bits >> (49 - 7 * i)) & 0x7F) << 1 for i in range(8))
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()  # ECB: LMOWFv1 is one DES block
    return encryptor.update(block) + encryptor.finalize()


def _rotl(value: int, shift: int) -> int:
    value &= _MASK
    return ((value << shift) | (value >> (32 - shift))) & _MASK


def md4(data: bytes) -> bytes:
    """MD4 (RFC 1320), for the NT hash only: once per password and run, so pure Python is fast enough."""
    try:
        return hashlib.new("md4", data).digest()  # where OpenSSL still offers it
    except ValueError:
        pass
    message = data + b"\x80" + b"\0" * ((55 - len(data)) % 64) + struct.pack("<Q", len(data) * 8)
    state = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476]
    for offset in range(0, len(message), 64):
        words = struct.unpack("<16I", message[offset : offset + 64])
        state = [(s + t) & _MASK for s, t in zip(state, _md4_block(state, words), strict=True)]
    return struct.pack("<4I", *state)


def _md4_block(state: list[int], x: tuple[int, ...]) -> list[int]:
    """The three rounds of RFC 1320 section 3.4 over one 16-word block."""
    a, b, c, d = state
    for i in (0, 4, 8, 12):  # round 1: F(x,y,z) = xy v not(x)z
        for k, s in zip(range(i, i + 4), (3, 7, 11, 19), strict=True):
            a, b, c, d = d, _rotl(a + ((b & c) | (~b & d)) + x[k], s), b, c
    for i in (0, 1, 2, 3):  # round 2: G(x,y,z) = xy v xz v yz, constant 0x5A827999
        for k, s in zip(range(i, 16, 4), (3, 5, 9, 13), strict=True):
            a, b, c, d = d, _rotl(a + ((b & c) | (b & d) | (c & d)) + x[k] + 0x5A827999, s), b, c
    for i in (0, 2, 1, 3):  # round 3: H(x,y,z) = x xor y xor z, constant 0x6ED9EBA1
        for k, s in zip((i, i + 8, i + 4, i + 12), (3, 9, 11, 15), strict=True):
            a, b, c, d = d, _rotl(a + (b ^ c ^ d) + x[k] + 0x6ED9EBA1, s), b, c
    return [a, b, c, d]

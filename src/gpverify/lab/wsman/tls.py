"""Throw-away certificates (self-signed, or a tiny CA and its leaves) and TLS server contexts for the lab."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CertificateAuthority", "cert_der_of", "issue", "make_ca", "make_self_signed", "server_context"]

# Server cert DER per context made by `server_context`, so the WS-Man server can compute the
# channel-binding token without re-reading files (research A.8 item 3).
_CONTEXT_CERTS: weakref.WeakKeyDictionary[ssl.SSLContext, bytes] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class CertificateAuthority:
    """A lab CA: its PEM (hand it to clients as ``ca_trust_path``) and signing key."""

    cert_pem: bytes
    key_pem: bytes
    name: str


def _new_key() -> ec.EllipticCurvePrivateKey:
    # P-256 keys take microseconds; RSA-2048 would cost ~50 ms per cert.
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _validity(
    days: int, not_before: dt.datetime | None, not_after: dt.datetime | None
) -> tuple[dt.datetime, dt.datetime]:
    """Defaults: valid from yesterday for ``days``; an explicit past ``not_after`` gives an expired cert."""
    now = dt.datetime.now(dt.UTC)
    end = not_after or now + dt.timedelta(days=days)
    start = not_before or min(now, end) - dt.timedelta(days=1)
    return start, end


def _san(names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _subject(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _leaf_builder(
    names: list[str], key: ec.EllipticCurvePrivateKey, issuer: x509.Name, start: dt.datetime, end: dt.datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(_subject(names[0]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(_san(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


def make_self_signed(
    names: list[str],
    days: int = 30,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> tuple[bytes, bytes]:
    """A self-signed server cert ``(cert_pem, key_pem)``; ``names`` become SANs (IP literals as IP SANs).

    A plain leaf (CA:FALSE): OpenSSL still accepts it as its own trust anchor when
    a client passes it as ``ca_trust_path``, which is how WinRM HTTPS listeners
    with self-signed certs are usually trusted (research A.8 item 3).
    """
    if not names:
        raise ValueError("make_self_signed needs at least one name")
    key = _new_key()
    start, end = _validity(days, not_before, not_after)
    cert = (
        _leaf_builder(names, key, _subject(names[0]), start, end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def make_ca(name: str = "gpverify lab CA", days: int = 365) -> CertificateAuthority:
    """A root CA whose PEM clients can trust and which `issue` signs leaves with."""
    key = _new_key()
    start, end = _validity(days, None, None)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_subject(name))
        .issuer_name(_subject(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key), name)


def issue(
    ca: CertificateAuthority,
    names: list[str],
    days: int = 30,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> tuple[bytes, bytes]:
    """A leaf ``(cert_pem, key_pem)`` for ``names`` signed by ``ca``; may be expired or for the wrong name."""
    if not names:
        raise ValueError("issue needs at least one name")
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem)
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise TypeError("lab CAs use EC keys")
    key = _new_key()
    start, end = _validity(days, not_before, not_after)
    cert = (
        _leaf_builder(names, key, ca_cert.subject, start, end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def server_context(cert_pem: bytes, key_pem: bytes, chain_pem: bytes = b"") -> ssl.SSLContext:
    """A server-side `ssl.SSLContext` loaded with the cert (plus optional intermediates) and key.

    ``load_cert_chain`` only takes paths, so the PEMs go to a private temp dir
    that is removed as soon as they are loaded.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory(prefix="gpverify-tls-") as tmp:
        cert_path, key_path = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
        cert_path.write_bytes(cert_pem + chain_pem)
        key_path.write_bytes(key_pem)
        key_path.chmod(0o600)
        ctx.load_cert_chain(cert_path, key_path)
    _CONTEXT_CERTS[ctx] = x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    return ctx


def cert_der_of(ctx: ssl.SSLContext) -> bytes | None:
    """The leaf cert DER of a context built by `server_context`, else None."""
    return _CONTEXT_CERTS.get(ctx)

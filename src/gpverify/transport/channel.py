"""NTLM through pyspnego: channel binding over HTTPS (the certificate's hash), and no token in any log."""

from __future__ import annotations

import functools
import logging

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from spnego.channel_bindings import GssChannelBindings


class _NoAuthTokens(logging.Filter):
    """pyspnego logs every NTLM/SPNEGO/CredSSP token at DEBUG; they can be cracked offline, so they never leave."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        return not any(word in text for word in ("step input", "step output", "TSRequest"))


# pyspnego logs through a logger per module (its README: logging set up with PYSPNEGO_LOG_CFG); these are those
# loggers' names, nothing is imported from them.
for _module in ("_ntlm", "_negotiate", "_gss", "_credssp", "_sspi"):
    logging.getLogger(f"spnego.{_module}").addFilter(_NoAuthTokens())


@functools.lru_cache(maxsize=256)
def certificate_hash(der: bytes) -> bytes:
    """RFC 5929 4.1 tls-server-end-point: the certificate hashed with its signature's hash, MD5 and SHA-1 (and
    anything unknown) upgraded to SHA-256. Cached: a farm's hosts often share a certificate."""
    cert = x509.load_der_x509_certificate(der)
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        algorithm = None
    if algorithm is None or algorithm.name in ("md5", "sha1"):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(der)
    return digest.finalize()


def tls_channel_bindings(der: bytes) -> GssChannelBindings:
    """The bindings Windows expects with Extended Protection (MS-NLMP 3.1.5.2.2, RFC 5929): application data
    "tls-server-end-point:" and the certificate's hash."""
    return GssChannelBindings(application_data=b"tls-server-end-point:" + certificate_hash(der))

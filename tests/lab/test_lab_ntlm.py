"""The lab's NTLM acceptor and SPNEGO shapes against pyspnego's initiator, message by message (no HTTP)."""

from __future__ import annotations

import pytest
import spnego

from gpverify.lab.wsman import negotiate
from gpverify.lab.wsman.ntlm import AuthFailed, NtlmAcceptor, Principal
from gpverify.transport.ntlm import nt_hash

PASSWORD = "Lab-Ntlm-Pw-31"


def _acceptor(bindings_hash: bytes | None = None) -> NtlmAcceptor:
    def account(principal: Principal) -> bytes | None:
        return nt_hash(PASSWORD) if principal.user.lower() == "gpadmin" else None

    return NtlmAcceptor(account, computer="gp-sh01", domain="LAB", bindings_hash=bindings_hash)


def _client(password: str = PASSWORD) -> spnego.ContextProxy:
    return spnego.client(
        "LAB\\gpadmin", password, hostname="gp-sh01", protocol="ntlm", options=spnego.NegotiateOptions.use_ntlm
    )


def test_a_handshake_then_sealing_both_ways() -> None:
    client, acceptor = _client(), _acceptor()
    principal, session = acceptor.authenticate(client.step(acceptor.challenge(client.step() or b"")) or b"")
    assert str(principal) == "LAB\\gpadmin"
    for n in range(3):  # the RC4 streams and sequence numbers stay in step over several messages
        sealed = client.wrap(f"request {n}".encode(), encrypt=True).data
        assert session.unwrap(sealed[:16], sealed[16:]) == f"request {n}".encode()
        signature, answer = session.wrap(f"answer {n}".encode())
        assert client.unwrap(signature + answer).data == f"answer {n}".encode()


@pytest.mark.parametrize("damage", ["password", "mic", "proof"])
def test_what_does_not_prove_the_password_is_refused(damage: str) -> None:
    client, acceptor = _client("Not-It" if damage == "password" else PASSWORD), _acceptor()
    message = bytearray(client.step(acceptor.challenge(client.step() or b"")) or b"")
    if damage == "mic":
        message[72] ^= 0xFF  # the MIC sits after the Version field (MS-NLMP 2.2.1.3)
    elif damage == "proof":
        start = int.from_bytes(message[24:28], "little")  # NtChallengeResponseFields' BufferOffset
        message[start + 20] ^= 0xFF  # inside the NTLMv2 response's client blob, after NTProofStr
    with pytest.raises(AuthFailed):
        acceptor.authenticate(bytes(message))


def test_channel_bindings_must_be_the_listeners() -> None:
    from spnego.channel_bindings import GssChannelBindings

    from gpverify.lab.wsman.auth import bindings_hash

    bound = GssChannelBindings(application_data=b"tls-server-end-point:" + b"\x01" * 32)
    client = spnego.client(
        "LAB\\gpadmin",
        PASSWORD,
        hostname="gp-sh01",
        protocol="ntlm",
        channel_bindings=bound,
        options=spnego.NegotiateOptions.use_ntlm,
    )
    acceptor = _acceptor(bindings_hash(bound))
    acceptor.authenticate(client.step(acceptor.challenge(client.step() or b"")) or b"")
    unbound, acceptor = _client(), _acceptor(bindings_hash(bound))
    with pytest.raises(AuthFailed, match="channel bindings"):
        acceptor.authenticate(unbound.step(acceptor.challenge(unbound.step() or b"")) or b"")


def test_spnego_tokens_parse_and_the_answer_is_what_pyspnego_reads() -> None:
    client = spnego.client("LAB\\gpadmin", PASSWORD, hostname="gp-sh01", protocol="negotiate")
    first = negotiate.parse(client.step() or b"")
    assert first.mechs[0] == negotiate.NTLM_OID and first.token and first.token.startswith(b"NTLMSSP\0")
    acceptor = _acceptor()
    reply = negotiate.response(
        negotiate.ACCEPT_INCOMPLETE, mech=negotiate.NTLM_OID, token=acceptor.challenge(first.token)
    )
    second = negotiate.parse(client.step(reply) or b"")
    assert second.mech_types is None and second.token and second.mic  # AUTHENTICATE and the mechListMIC
    _, session = acceptor.authenticate(second.token)
    session.verify(first.mech_types or b"", second.mic)
    session.reset_streams(incoming=True, outgoing=False)
    mic = session.sign(first.mech_types or b"")
    session.reset_streams(incoming=False, outgoing=True)
    client.step(negotiate.response(negotiate.ACCEPT_COMPLETED, mic=mic))
    assert client.complete
    signature, sealed = session.wrap(b"after the MIC")
    assert client.unwrap(signature + sealed).data == b"after the MIC"


@pytest.mark.parametrize("token", [b"", b"\x60\x05", b"\xa1\x03\x30\x01", b"NTLMSSP\0garbage"])
def test_garbage_is_refused_not_crashed(token: bytes) -> None:
    with pytest.raises((negotiate.SpnegoError, AuthFailed, ValueError, IndexError)):
        negotiate.parse(token) if negotiate.is_spnego(token) or not token else _acceptor().challenge(token)

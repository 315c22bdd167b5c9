"""w:TimedOut outside a Receive: both WinRM clients end in the same one sentence (pywinrm raises
WinRMOperationTimeoutError for it whatever the request, winrm/protocol.py send_message), never an odd exception."""

from __future__ import annotations

import pytest

from gpverify.errors import HostUnavailable
from gpverify.lab.models import build_farm
from gpverify.lab.wsman.faults import OperationTimedOut
from gpverify.transport import get_transport_class
from helpers.wsman import PASSWORD, listener, spec

ACTIONS = {"Create": "opening a shell", "Command": "starting the command", "Send": "sending input"}


@pytest.fixture(scope="module")
def farm():  # type: ignore[no-untyped-def]
    return build_farm("html", "upgraded")


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_timed_out_answer_to_any_request_is_one_sentence(farm, action: str) -> None:  # type: ignore[no-untyped-def]
    sentences = {}
    for client in ("lean", "winrm"):
        server = listener(farm)
        server.responder.faults[action] = OperationTimedOut()
        try:
            with pytest.raises(HostUnavailable) as exc, get_transport_class(client)(spec(server.port), PASSWORD) as sh:
                sh.run("hostname", [], b"input")
            sentences[client] = exc.value.cause
            assert action in server.actions()
        finally:
            server.stop()
    assert sentences["lean"] == sentences["winrm"], sentences
    assert f"operation timeout while {ACTIONS[action]}" in sentences["lean"]

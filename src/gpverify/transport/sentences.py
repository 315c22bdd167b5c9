"""The sentences a WinRM failure becomes, shared by both WinRM clients so a host fails in the same words."""

from __future__ import annotations

from gpverify.config.inventory import HostSpec


def no_password(spec: HostSpec) -> str:
    return (
        f"no password for user {spec.winrm.user!r}: set winrm.password_env, winrm.password_keyring or "
        "winrm.password_prompt"
    )


def no_user() -> str:
    return "no user name: set winrm.user"


def deadline(spec: HostSpec, action: str) -> str:
    return (
        f"the host did not finish within its deadline of {spec.winrm.deadline or 300:g} s (winrm.deadline) "
        f"while {action}: it answers too slowly or trickles its answer; check the host and the network, or "
        "raise winrm.deadline"
    )


def not_winrm(spec: HostSpec, detail: str, action: str) -> str:
    """`detail` is "HTTP <status> with a web page (text/html)"."""
    return (
        f"the endpoint {spec.endpoint} answered {detail} while {action}: it is a web site, not a WinRM "
        "listener (IIS's default site on this port?); check the address and winrm.port, and that WinRM "
        "listens there (winrm enumerate winrm/config/listener)"
    )


def too_large(spec: HostSpec, detail: str, action: str) -> str:
    return (
        f"the endpoint {spec.endpoint} sent an answer too large for WS-Management while {action} ({detail}): "
        "it is not a WinRM listener, or something on the path rewrites answers"
    )


def silent_host(spec: HostSpec, action: str) -> str:
    return (
        f"the host accepted the connection but sent no answer within {spec.winrm.connect_timeout or 10:g} s "
        f"while {action} (winrm.connect_timeout): is something other than WinRM listening on {spec.endpoint}?"
    )


def no_connection(spec: HostSpec, action: str) -> str:
    return (
        f"no connection within {spec.winrm.connect_timeout or 10:g} s while {action} (winrm.connect_timeout): "
        "the host or a firewall drops the connection; check the port and the firewall"
    )


def no_answer(spec: HostSpec, action: str) -> str:
    return f"no answer within {spec.winrm.read_timeout:g} s while {action} (host slower than winrm.read_timeout)"


def operation_timeout(action: str) -> str:
    return f"the command produced no output within the WS-Man operation timeout while {action}"


def wsman_fault(reason: str, action: str) -> str:
    return f"WS-Management fault while {action}: {reason}"


def unencrypted_refused() -> str:
    return (
        "the host refused an unencrypted request (AllowUnencrypted=false, as it should be): set "
        "winrm.message_encryption: auto, or use HTTPS"
    )


def http_status(code: int, action: str) -> str:
    return f"the WinRM service answered HTTP {code} while {action}: check the listener and its event log"


def basic_disabled() -> str:
    return (
        "the host does not accept Basic authentication: enable it (winrm set winrm/config/service/auth "
        '@{Basic="true"}) or use transport ntlm'
    )


def unauthenticated(spec: HostSpec, action: str) -> str:
    return (
        f"the endpoint {spec.endpoint} answered without asking for authentication while {action}: it is not a "
        "WinRM listener (a web site, for example IIS's default page, on this port?); check the address and "
        "winrm.port"
    )


def not_ntlm(spec: HostSpec, action: str, kind: str) -> str:
    return (
        f"the endpoint {spec.endpoint} sent an authentication answer that is not NTLM/Negotiate while {action} "
        f"({kind}): check that it is a Windows WinRM listener and that Negotiate authentication is enabled "
        "(Auth/Negotiate)"
    )


def not_winrm_behaviour(spec: HostSpec, action: str, kind: str) -> str:
    return f"the endpoint {spec.endpoint} answered in a way WinRM never does while {action} ({kind})"


def tls(text: str, spec: HostSpec) -> str:
    """A TLS failure by what the TLS library said: a name mismatch, an expired or an untrusted certificate."""
    low = text.lower()
    if "match" in low and ("hostname" in low or "ip address" in low):
        return (
            f"the host's TLS certificate does not match the name connected to ({spec.address}): connect by a "
            "name the certificate lists (set the host's address), or reissue the WinRM HTTPS listener "
            "certificate for this name"
        )
    if "expired" in low:
        return "the host's TLS certificate has expired: renew the WinRM HTTPS listener certificate"
    if "self-signed" in low or "self signed" in low or "unable to get local issuer" in low or "verify failed" in low:
        where = f"winrm.ca_bundle ({spec.winrm.ca_bundle})" if spec.winrm.ca_bundle else "winrm.ca_bundle"
        return (
            f"the host's TLS certificate is not trusted: set {where} to the PEM of the CA that issued it "
            "(for a self-signed listener, the certificate itself)"
        )
    return f"TLS handshake failed ({text.splitlines()[0][:160] if text else 'no detail'}): check the HTTPS listener"


def connection(text: str, spec: HostSpec) -> str:
    """A socket-level failure by what the operating system said: no such name, refused, reset."""
    low = text.lower()
    if (
        "name or service not known" in low
        or "getaddrinfo" in low
        or "nodename nor servname" in low
        or "failed to resolve" in low
        or "name resolution" in low
    ):
        return f"the name {spec.address!r} does not resolve: check DNS or set the host's address"
    if "refused" in low:
        return f"connection refused at {spec.endpoint}: is the WinRM listener on (winrm quickconfig) and the port open?"
    if "reset" in low or "aborted" in low or "remotedisconnected" in low:
        return (
            "the connection was reset while talking to WinRM: check for a firewall or proxy cutting "
            "long requests, and the host's WinRM event log"
        )
    return f"cannot reach WinRM at {spec.endpoint}"


def credentials(spec: HostSpec) -> str:
    """Rejected credentials, naming the account and where its password came from (never the password)."""
    w = spec.winrm
    if w.transport == "certificate":
        return (
            "the client certificate was rejected: map it to a local account on the host (winrm create "
            "winrm/config/service/certmapping ...) and enable WinRM certificate authentication "
            "(Auth/Certificate=true)"
        )
    source = (
        f"environment variable {w.password_env}"
        if w.password_env
        else f"keyring entry {w.password_keyring}"
        if w.password_keyring
        else "the prompt"
        if w.password_prompt
        else "no password source"
    )
    return (
        f"credentials rejected for user {w.user!r} over {w.transport}: check the account name, its password "
        f"(from {source}), and that the WinRM service allows {w.transport} (Auth/{auth_name(w.transport)})"
    )


def auth_name(transport: str | None) -> str:
    """The name of WinRM's Auth setting for a transport."""
    return {
        "ntlm": "Negotiate",
        "kerberos": "Kerberos",
        "credssp": "CredSSP",
        "basic": "Basic",
        "certificate": "Certificate",
    }.get(transport or "ntlm", "Negotiate")


def collector_hangs(receives: int) -> str:
    return (
        f"the command produced no output after {receives} Receive requests: the collector hangs (see the "
        "host's event log)"
    )


def output_too_large(limit: int) -> str:
    return (
        f"the command sent more than {limit:,} bytes of output: this is not the gpverify collector's answer "
        "(check the host)"
    )


def read_timeout_passed() -> str:
    return (
        "the command did not finish within winrm.read_timeout: the host is overloaded or the collector hangs "
        "(see its event log), or raise winrm.read_timeout"
    )

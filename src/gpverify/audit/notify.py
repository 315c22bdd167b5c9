"""Notification when the audit's outcome changes, only through apprise: Teams, Slack, e-mail and the rest."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from gpverify.config.redact import NOTIFY_URLS_ENV
from gpverify.errors import ConfigError
from gpverify.history.status import AuditStatus

if TYPE_CHECKING:  # apprise (a tenth of a second to import) only when a notification is configured
    import apprise

TIMEOUT = 15.0
SENDER = "gpverify@localhost"
ATTACHMENT = "gpverify-audit.json"  # the audit's whole payload, attached to every message that can carry a file
# apprise URLs (msteams://..., slack://..., mailto://...) hold tokens and passwords: they are read from here only,
# never from the command line or a scheduled task's arguments, where process lists and task exports show them.
NOTIFY_ENV = NOTIFY_URLS_ENV  # its values are masked in every output (config.redact)
NOTIFY_KEYRING = ("gpverify", "notify-urls")
UNKNOWN_URL = "not a notification URL apprise knows"


def outcome_changed(previous: Any, status: str, failing: set[tuple[str, str]]) -> bool:
    """True on the first audit, when the overall status changed, or when the set of failing tests changed."""
    if previous is None:
        return True
    before = {k for k, r in previous.results.items() if r.failing}
    return previous.status != status or before != failing


def parse_smtp(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigError("--notify-smtp", "notify-smtp", f"HOST:PORT such as mail.example.com:25, got {value!r}")
    return host, int(port)


def subject_of(payload: dict[str, Any]) -> str:
    return (
        f"gpverify audit #{payload['run']} {payload['status'].upper()} on {payload['farm']} "
        f"(was {payload.get('previous_status') or 'not run'})"
    )


def body_of(payload: dict[str, Any]) -> str:
    lines = [subject_of(payload), ""]
    for title, key in (("Newly failing", "newly_failing"), ("Fixed", "fixed"), ("Still failing", "still_failing")):
        entries = payload.get(key) or []
        lines.append(f"{title} ({len(entries)}):")
        lines.extend(f"  {e['name']}: {e.get('title', '')}" for e in entries)
    lines += [
        "",
        f"Report: {payload.get('report', '')}",
        f"Where the channel takes files, the whole change is attached as {ATTACHMENT}.",
    ]
    return "\n".join(lines) + "\n"


def webhook_url(url: str) -> str:
    """The apprise URL for --notify-webhook: json:// (jsons:// for https) POSTs to the same host, port and path.

    apprise's JSON plugin (apprise/plugins/custom_json.py) reads its own options from the query string and sends
    "-NAME=VALUE" on as the URL's own query, so the webhook's query (often its signature) is passed on that way."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http:// or https:// URL")
    query = [("-" + k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    query += [("cto", str(TIMEOUT)), ("rto", str(TIMEOUT))]
    return f"{'jsons' if parts.scheme == 'https' else 'json'}://{parts.netloc}{parts.path or '/'}?{urlencode(query)}"


def email_url(server: str, to: str) -> str:
    """The apprise URL for --notify-smtp HOST:PORT --notify-to ADDR: plain SMTP to that relay, no login.

    apprise/plugins/email/base.py: mailto:// means secure mode "insecure" (no TLS, as gpverify always sent), a login
    only when a user and password are given, smtp= names the server exactly (no guessing from a provider table)."""
    host, port = parse_smtp(server)
    query = urlencode({"smtp": host, "from": SENDER, "to": to, "mode": "insecure", "format": "text"})
    return f"mailto://{host}:{port}/?{query}"


def _where(url: str) -> str:
    """Scheme and host of a webhook URL: Slack and Teams URLs hold their secret token in the path."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}/..."


def notify_urls() -> list[str]:
    """The apprise URLs from GPVERIFY_NOTIFY_URLS, else the keyring entry gpverify/notify-urls (space-separated)."""
    text = os.environ.get(NOTIFY_ENV, "").strip()
    if not text:
        try:
            import keyring

            text = (keyring.get_password(*NOTIFY_KEYRING) or "").strip()
        except Exception:  # noqa: BLE001 - no keyring backend on this machine: same as no entry
            text = ""
    return text.replace(",", " ").split()


def require_notify_urls() -> list[str]:
    urls = notify_urls()
    if not urls:
        raise ConfigError(
            "--notify",
            NOTIFY_ENV,
            "apprise URLs in the environment variable, or in the keyring as "
            f"service {NOTIFY_KEYRING[0]!r} user {NOTIFY_KEYRING[1]!r} (keyring set "
            f"{NOTIFY_KEYRING[0]} {NOTIFY_KEYRING[1]})",
        )
    return urls


def _masked(text: str, url: str, shown: str) -> str:
    """apprise's log line with every piece of the URL (tokens sit in its host, path and query) cut out but those
    the line shows anyway (a webhook's or SMTP relay's host)."""
    text = re.sub(r"\b([a-z][a-z0-9+.-]*)://\S+", r"\1://...", text)
    for piece in sorted(set(re.split(r"[/:@?&=#,]+", url.split("://", 1)[-1])), key=len, reverse=True):
        if len(piece) >= 3 and piece not in shown:
            text = text.replace(piece, "...")
    return text


def send(url: str, payload: dict[str, Any], attach: apprise.AppriseAttachment, shown: str = "") -> str | None:
    """Send through apprise; None when sent, else why not (apprise's last warning, without the URL's pieces)."""
    import apprise

    channel = apprise.Apprise()
    if not channel.add(url):
        return UNKNOWN_URL
    kind = apprise.NotifyType.SUCCESS if payload["status"] == AuditStatus.PASSED else apprise.NotifyType.FAILURE
    # apprise says why only in its log: LogCapture is its public way to read it (apprise/logger.py).
    with apprise.LogCapture(level=apprise.logging.WARNING, fmt="%(message)s") as log:  # type: ignore[no-untyped-call]
        sent = channel.notify(
            title=subject_of(payload),
            body=body_of(payload),
            notify_type=kind,
            body_format=apprise.NotifyFormat.TEXT,
            attach=attach,
        )
        warnings = [line for line in log.getvalue().splitlines() if line.strip()]
    if sent:
        return None
    return _masked(warnings[-1], url, shown) if warnings else "the service refused or did not answer"


def _channels(
    webhook: str | None, smtp: str | None, to: str | None, urls: list[str]
) -> list[tuple[str, str, Callable[[], str]]]:
    """(line head, where, the apprise URL's maker) per configured channel; apprise URLs named by scheme only."""
    channels: list[tuple[str, str, Callable[[], str]]] = [
        (url.split("://", 1)[0] + "://...:", "", partial(str, url)) for url in urls
    ]
    if webhook:
        channels.append(("webhook:", f" to {_where(webhook)}", partial(webhook_url, webhook)))
    if smtp and to:
        channels.append(("email:", f" to {to} through {smtp}", partial(email_url, smtp, to)))
    return channels


def _line(
    head: str, where: str, make: Callable[[], str], payload: dict[str, Any], attach: apprise.AppriseAttachment
) -> str:
    try:
        url = make()
    except (ValueError, ConfigError) as exc:  # our own words about a malformed --notify-* value
        return f"{head} NOT sent{where}: {exc}"
    try:
        why = send(url, payload, attach, shown=where)
    except Exception as exc:  # noqa: BLE001 - a failed notification must not fail the audit
        why = type(exc).__name__  # a message may repeat the URL, and URLs carry their token: the type only
    return f"{head} sent{where}" if why is None else f"{head} NOT sent{where}: {why}"


def notify(
    payload: dict[str, Any], *, webhook: str | None, smtp: str | None, to: str | None, urls: list[str] | None = None
) -> list[str]:
    """Send what is configured; return one line per channel (sent, or why it failed). Never raises."""
    channels = _channels(webhook, smtp, to, urls or [])
    if not channels:
        return []
    try:
        import apprise

        with tempfile.TemporaryDirectory(prefix="gpverify-notify-") as folder:
            path = Path(folder, ATTACHMENT)
            path.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
            attach = apprise.AppriseAttachment(str(path))
            return [_line(*channel, payload, attach) for channel in channels]
    except Exception as exc:  # noqa: BLE001 - a failed notification must not fail the audit
        return [f"{head} NOT sent{where}: {type(exc).__name__}" for head, where, _ in channels]

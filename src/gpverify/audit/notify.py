"""Notification when the audit's outcome changes: Microsoft Teams, Slack, e-mail and the rest through apprise
(URLs from the environment or the keyring, never the command line), a JSON webhook, an email through SMTP."""

from __future__ import annotations

import json
import os
import smtplib
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import requests

from gpverify.config.redact import NOTIFY_URLS_ENV
from gpverify.errors import ConfigError

TIMEOUT = 15.0
# apprise URLs (msteams://..., slack://..., mailto://...) hold tokens and passwords: they are read from here only,
# never from the command line or a scheduled task's arguments, where process lists and task exports show them.
NOTIFY_ENV = NOTIFY_URLS_ENV  # its values are masked in every output (config.redact)
NOTIFY_KEYRING = ("gpverify", "notify-urls")


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
    return (f"gpverify audit #{payload['run']} {payload['status'].upper()} on {payload['farm']} "
            f"(was {payload.get('previous_status') or 'not run'})")


def body_of(payload: dict[str, Any]) -> str:
    lines = [subject_of(payload), ""]
    for title, key in (("Newly failing", "newly_failing"), ("Fixed", "fixed"), ("Still failing", "still_failing")):
        entries = payload.get(key) or []
        lines.append(f"{title} ({len(entries)}):")
        lines.extend(f"  {e['name']}: {e.get('title', '')}" for e in entries)
    lines += ["", f"Report: {payload.get('report', '')}"]
    return "\n".join(lines) + "\n"


def send_webhook(url: str, payload: dict[str, Any]) -> None:
    response = requests.post(url, json=payload, timeout=TIMEOUT)
    response.raise_for_status()


def send_email(server: str, to: str, payload: dict[str, Any], sender: str = "gpverify@localhost") -> None:
    host, port = parse_smtp(server)
    msg = EmailMessage()
    msg["Subject"] = subject_of(payload)
    msg["From"] = sender
    msg["To"] = to
    msg.set_content(body_of(payload))
    msg.add_attachment(json.dumps(payload, indent=2, default=str), subtype="json", filename="gpverify-audit.json")
    with smtplib.SMTP(host, port, timeout=TIMEOUT) as smtp:
        smtp.send_message(msg)


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
        raise ConfigError("--notify", NOTIFY_ENV, "apprise URLs in the environment variable, or in the keyring as "
                          f"service {NOTIFY_KEYRING[0]!r} user {NOTIFY_KEYRING[1]!r} (keyring set "
                          f"{NOTIFY_KEYRING[0]} {NOTIFY_KEYRING[1]})")
    return urls


def send_apprise(urls: list[str], payload: dict[str, Any]) -> list[str]:
    """One line per URL: sent, or why not; each URL named by its scheme only (the rest holds the token)."""
    import apprise

    lines = []
    for url in urls:
        channel = apprise.Apprise()
        scheme = url.split("://", 1)[0] + "://..."
        if not channel.add(url):
            lines.append(f"{scheme}: NOT sent: not a notification URL apprise knows")
        elif channel.notify(title=subject_of(payload), body=body_of(payload)):
            lines.append(f"{scheme}: sent")
        else:
            lines.append(f"{scheme}: NOT sent (the service refused or did not answer)")
    return lines


def notify(payload: dict[str, Any], *, webhook: str | None, smtp: str | None, to: str | None,
           urls: list[str] | None = None) -> list[str]:
    """Send what is configured; return one line per channel (sent, or why it failed). Never raises."""
    lines = []
    if urls:
        try:
            lines += send_apprise(urls, payload)
        except Exception as exc:  # noqa: BLE001 - a failed notification must not fail the audit
            lines.append(f"apprise: NOT sent: {type(exc).__name__}")
    if webhook:
        try:
            send_webhook(webhook, payload)
            lines.append(f"webhook: sent to {_where(webhook)}")
        except Exception as exc:  # noqa: BLE001 - a failed notification must not fail the audit
            # requests repeats the URL in its messages, and webhook URLs carry their token: name the type only.
            lines.append(f"webhook: NOT sent to {_where(webhook)}: {type(exc).__name__}")
    if smtp and to:
        try:
            send_email(smtp, to, payload)
            lines.append(f"email: sent to {to} through {smtp}")
        except Exception as exc:  # noqa: BLE001
            lines.append(f"email: NOT sent to {to} through {smtp}: {exc}")
    return lines

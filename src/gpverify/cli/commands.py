"""The subcommands kept in their own modules, with their one-line help, so `gpverify --help` imports none of them."""

from __future__ import annotations

# module -> {command: help}. A command imports its own module only (the others bring SQLAlchemy and Alembic,
# Jinja2, rich...); `gpverify --help` and an unknown command list these lines without importing anything.
EXTENSIONS: dict[str, dict[str, str]] = {
    "gpverify.cli.discover": {
        "discover": "list a farm's GP services, products and configuration tables next to the profile's "
        "identifiers (read-only), to set overrides"
    },
    "gpverify.cli.upgrade": {"upgrade": "run the upgrade: steps between check gates, resumable"},
    "gpverify.cli.audit": {
        "audit": "run the post-upgrade and client checks unattended (nightly audit)",
        "history": "outcome of each check over the recorded audit runs",
        "baseline": "capture a known-good farm's facts, or compare two snapshots",
    },
    "gpverify.cli.fleet": {"fleet": "one row per farm of the history: last audit, age, results, silent farms"},
    "gpverify.cli.doctor": {"doctor": "preflight: can every host and database the checks read be reached?"},
    "gpverify.cli.report": {"report": "write the printable upgrade verification record of a run (HTML, PDF)"},
    "gpverify.cli.inventory": {"inventory": "work with inventory files"},
}
HELP = {command: text for commands in EXTENSIONS.values() for command, text in commands.items()}


def module_of(command: str | None) -> str | None:
    """The module that adds `command`, or None for a built-in or unknown one."""
    return next((m for m, commands in EXTENSIONS.items() if command in commands), None)

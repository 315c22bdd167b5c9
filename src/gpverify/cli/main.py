"""The gpverify command: run, init, lab, demo, catalogue, profiles, discovery, upgrade runner and nightly audit."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import os
import shlex
import signal
import sys
import threading
from importlib import import_module
from pathlib import Path
from typing import NoReturn

from gpverify import __version__
from gpverify.cli.commands import EXTENSIONS, module_of
from gpverify.config.options import folder, seconds
from gpverify.config.paths import claim_folder
from gpverify.errors import ConfigError, GpVerifyError
from gpverify.exitcodes import BAD_INPUT, NOT_RUN, PASSED, TABLE

# The commands defined here; the others (cli/commands.py) each live in a module imported only when typed.
# tests/unit/test_startup.py bounds what --version, --help and each command import.
BUILT_IN = ("run", "init", "lab", "demo", "checks", "profile")


def cmd_run(ns: argparse.Namespace) -> int:
    """One phase's checks, shipped and custom, through pytest; every other option is pytest's."""
    from gpverify.cli.site import run_phase

    return run_phase(ns.phase, ns.checks, ns.pytest_args)


def cmd_init(ns: argparse.Namespace) -> int:
    from gpverify.cli.site import init_site, print_site

    folder = Path(ns.dir)
    print_site(folder, init_site(folder))
    return PASSED


LAB_MARKER = ".gpverify-lab"  # in a folder `gpverify lab` made: it may replace its own entries there
LAB_ENTRIES = ("inventory.yml", "sql", "lab-ca.pem", "lab.env", "lab-password.txt")  # what the lab writes there


def cmd_lab(ns: argparse.Namespace) -> int:
    from gpverify import extension

    lab = extension.lab()
    if ns.list:
        for name, description, _proves in lab.scenarios():
            print(f"{name:36} {description}")
        return PASSED

    # Only a folder this command made (or a new or empty one) is used, and only the lab's own entries in it are
    # replaced: `--dir ~/Documents` is refused, never emptied.
    workdir = claim_folder(ns.dir, "--dir", LAB_MARKER, LAB_ENTRIES)
    done = threading.Event()
    # Installed before the lab starts: a TERM at any moment ends in the clean-up below (servers stopped, lab.env
    # (lab-password.txt on Windows) removed).
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    running = lab.start_lab(ns.scenario, workdir, idle_timeout=ns.idle_timeout)
    env_file, line, load = lab_env(workdir, lab.password_env, os.environ[lab.password_env], windows=os.name == "nt")
    try:
        # The lab's password is made up per start; hand it over in a private file, never on the screen.
        fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(line)
        print(f"Lab running (scenario {ns.scenario}); inventory: {running.inventory_path}")
        print("In another shell:")
        print(f"  {load}")
        print(f"  gpverify run pre --inventory {running.inventory_path}")
        print(f"It stops by itself after {ns.idle_timeout:g} s, or on Ctrl-C.", flush=True)
        try:
            done.wait(ns.idle_timeout)
        except KeyboardInterrupt:
            pass
    finally:
        running.stop()
        env_file.unlink(missing_ok=True)
    return PASSED


def lab_env(workdir: Path, name: str, value: str, *, windows: bool) -> tuple[Path, str, str]:
    """The file handing the lab's password to another shell, its text, and the command that loads it: a POSIX
    shell's `. lab.env`, or on Windows a PowerShell line that reads the bare value (`. lab.env` is no command
    there, and running a .ps1 needs an execution policy that allows scripts)."""
    if windows:
        path = workdir / "lab-password.txt"
        quoted = str(path).replace("'", "''")  # PowerShell's single quotes: only ' is special, doubled
        return path, value, f"$env:{name} = Get-Content '{quoted}'"
    return workdir / "lab.env", f"export {name}={shlex.quote(value)}\n", f". {workdir / 'lab.env'}"


def cmd_demo(ns: argparse.Namespace) -> int:
    """The whole upgrade on the lab, non-interactive: from before-upgrade to upgraded, every gate a report."""
    from gpverify.cli.upgrade import run_demo

    return run_demo(Path(ns.reports), ns.scenario)


def cmd_checks(ns: argparse.Namespace) -> int:
    from gpverify.cli.checks import print_catalogue
    from gpverify.config.shipped import checks_root
    from gpverify.customchecks import check_folders

    return print_catalogue(checks_root(), ns.format, *check_folders(ns.checks, "gpverify checks"))


def cmd_profile(ns: argparse.Namespace) -> int:
    from gpverify.config.profiles import available, load_profile

    if not ns.name:
        print("\n".join(available()))
        return PASSED
    profile = load_profile(ns.name, origin="gpverify profile")
    from gpverify.cli.tables import print_table

    print_table(
        ["Identifier", "Confidence", "Value", "Source"],
        [
            (i.key, i.confidence, "(not public: set it under overrides)" if i.value is None else i.value, i.source)
            for i in profile.identifiers.values()
        ],
    )
    return PASSED


class Parser(argparse.ArgumentParser):
    """argparse with gpverify's exit code for usage errors (3, as for any bad input), subcommands included."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(BAD_INPUT, f"{self.prog}: error: {message}\n")


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line; given the command the user typed, only the subcommand modules that command needs."""
    p = Parser(prog="gpverify", description=__doc__, epilog=TABLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"gpverify {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    _register_site_commands(sub)
    _register_lab_commands(sub)
    _register_extensions(sub, command)
    for subcommand in sub.choices.values():  # every command's --help ends with the one exit-code table
        if TABLE not in (subcommand.epilog or ""):
            subcommand.epilog = ((subcommand.epilog or "") + "\n\n" + TABLE).strip() + "\n"
            subcommand.formatter_class = argparse.RawDescriptionHelpFormatter
    return p


def _register_site_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """run and init: a phase's checks through pytest, and a site folder to start from."""
    run = sub.add_parser(
        "run",
        allow_abbrev=False,
        help="run one phase's checks (pytest options pass through)",
        usage="gpverify run {pre,web,hosts,post,clients} [--checks DIR] [--lab [SCENARIO] | "
        "--inventory FILE] [pytest options]",
        description="Run the shipped checks of one phase, and the same phase of each --checks "
        "folder, through pytest. Every other option is pytest's or gpverify's pytest "
        "plugin's: --lab [SCENARIO], --inventory FILE, --host NAME, -k, --html, --lf ...",
    )
    run.add_argument("phase", choices=["pre", "web", "hosts", "post", "clients"])
    run.add_argument(
        "--checks",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of your own checks (DIR/<phase>/ when it has one); repeatable",
    )
    run.set_defaults(func=cmd_run, pytest_args=[])
    init = sub.add_parser(
        "init",
        help="write a site folder: commented inventory, waivers, plan, example checks, "
        "lab overlays and the nightly audit's scheduler templates",
    )
    init.add_argument("dir", metavar="DIR", type=folder("a folder for the site (new, or without its files)"))
    init.set_defaults(func=cmd_init)


def _register_lab_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """lab, demo, checks and profile: what gpverify knows and shows without a farm."""
    lab = sub.add_parser("lab", help="run a simulated lab in the foreground and write its inventory")
    lab.add_argument("--scenario", default="healthy", help="scenario name or overlay file (default healthy)")
    lab.add_argument("--dir", default="reports/lab", help="where the lab writes its inventory and databases")
    lab.add_argument(
        "--idle-timeout", type=seconds(allow_zero=False), default=1800.0, help="stop after this many idle seconds"
    )
    lab.add_argument("--list", action="store_true", help="list the shipped scenarios and exit")
    lab.set_defaults(func=cmd_lab)
    demo = sub.add_parser("demo", help="run the whole upgrade on the built-in lab and write HTML reports")
    demo.add_argument("--reports", type=folder(), default="reports")
    demo.add_argument("--scenario", default="before-upgrade", help="lab scenario to upgrade (default before-upgrade)")
    demo.set_defaults(func=cmd_demo)
    checks = sub.add_parser("checks", help="print the check catalogue")
    checks.add_argument("--format", choices=["table", "markdown", "json"], default="table")
    checks.add_argument(
        "--checks",
        action="append",
        default=[],
        metavar="DIR",
        help="also list the checks of this folder of your own (repeatable)",
    )
    checks.set_defaults(func=cmd_checks)
    prof = sub.add_parser("profile", help="list profiles, or show one profile's identifiers with sources")
    prof.add_argument("name", nargs="?")
    prof.set_defaults(func=cmd_profile)


def _register_extensions(sub: argparse._SubParsersAction, command: str | None) -> None:  # type: ignore[type-arg]
    """The typed command's own module registers it in full; the others are listed by name and help only, which
    is all `gpverify --help` and an unknown command's message show."""
    typed = module_of(command)
    for module, commands in EXTENSIONS.items():
        if module == typed:
            import_module(module).register(sub)
            continue
        for name, text in commands.items():
            sub.add_parser(name, help=text, add_help=False)


def _command(argv: list[str]) -> str | None:
    """The subcommand typed: the first word that is not an option (gpverify's own options take no value)."""
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: list[str] | None = None) -> int:
    p = parser(_command(sys.argv[1:] if argv is None else argv))
    ns, rest = p.parse_known_args(argv)
    if rest and ns.command != "run":
        p.error(f"unrecognized arguments: {' '.join(rest)}")
    if ns.command == "run":
        ns.pytest_args = rest
    try:
        return int(ns.func(ns))
    except ConfigError as exc:  # bad input: file, field and what was expected
        print(f"gpverify: {exc}", file=sys.stderr)
        return BAD_INPUT
    except GpVerifyError as exc:
        print(f"gpverify: {exc}", file=sys.stderr)
        return NOT_RUN
    except BrokenPipeError:  # `gpverify checks | head`: the reader left, nothing to report
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - silences Python's own flush error at exit
        return PASSED


def console() -> NoReturn:
    """The `gpverify` command: main(), then a quick exit.

    Tearing down the thousand modules a run imports (pytest, pydantic, SQLAlchemy, sqlglot...) takes Python about
    0.3 s at exit, a fifth of an audit of the lab, and frees nothing the operating system would not. So the
    process leaves as mypy does (mypy/util.py hard_exit), once what a normal exit would still do is done: the
    atexit handlers (logging's flush among them) and the standard streams. An exception leaves the usual way.
    """
    # A command imports about a thousand modules, and with Python's default thresholds (700, 10, 10) the
    # collector runs hundreds of times on them while they load, a few of them full collections of everything
    # loaded so far: about a tenth of a second of an audit. Collecting young objects every 50,000 allocations
    # instead still bounds what a cycle can hold, for a process that lives seconds to minutes
    # (docs.python.org/3/library/gc.html#gc.set_threshold).
    gc.set_threshold(50_000, 10, 10)
    code = main()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader gone (`| head`) or a stream already closed
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    console()

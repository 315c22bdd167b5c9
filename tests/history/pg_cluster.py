"""A throwaway PostgreSQL cluster for the history tests: initdb in a temporary folder, one server on
127.0.0.1 on a free port, password authentication (scram-sha-256), stopped and removed at the end.

PostgreSQL refuses to run as root, so as root (CI) the server runs as the `postgres` user that Debian's
package creates (runuser). A watchdog stops the server should the test process die without cleaning up.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ADMIN, USER = "postgres", "gpverify"
WATCHDOG = """
import os, shutil, subprocess, sys, time
pid, data, folder, prefix = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
while True:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        break
    time.sleep(1)
subprocess.run([*prefix, "pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True, check=False)
shutil.rmtree(folder, ignore_errors=True)
"""


class ClusterUnavailable(Exception):
    """PostgreSQL cannot be started here; the message says why."""


def pg_bin() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin (Debian's layout), else the folder of pg_ctl on PATH."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).resolve().parent if on_path else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    def __init__(self) -> None:
        found = pg_bin()
        if found is None:
            raise ClusterUnavailable(
                "PostgreSQL is not installed (Debian: apt-get install postgresql; `make test` installs it)"
            )
        self.bin: Path = found
        self.prefix: list[str] = []
        owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:  # postgres will not run as root
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise ClusterUnavailable(
                    "running as root and there is no 'postgres' user to run the server as "
                    "(Debian's postgresql package creates it)"
                ) from None
            self.prefix = ["runuser", "-u", "postgres", "--"]
        # as root in /tmp itself: TMPDIR may be a folder the postgres user cannot enter
        self.folder = Path(tempfile.mkdtemp(prefix="gpverify-pg-", dir="/tmp" if owner is not None else None))
        if owner is not None:
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
        self.data = self.folder / "data"
        self.port = free_port()
        self.admin_password = secrets.token_urlsafe(18)
        self.password = "Hist-" + secrets.token_urlsafe(12)  # gpverify's role: what no output may show
        self.watchdog: subprocess.Popen[bytes] | None = None
        pwfile = self.folder / "pw"
        pwfile.write_text(self.admin_password + "\n")
        pwfile.chmod(0o600)
        if owner is not None:
            os.chown(pwfile, owner.pw_uid, owner.pw_gid)
        try:
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                ADMIN,
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            )
            pwfile.unlink()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
            )
            self._run(
                "pg_ctl",
                "-D",
                str(self.data),
                "-l",
                str(self.folder / "server.log"),
                "-w",
                "-t",
                "30",
                "-o",
                options,
                "start",
            )
            watchdog = WATCHDOG.replace('"pg_ctl"', repr(str(self.bin / "pg_ctl")))
            self.watchdog = subprocess.Popen(
                [sys.executable, "-c", watchdog, str(os.getpid()), str(self.data), str(self.folder), *self.prefix],
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            from psycopg import sql

            self.admin(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(USER), sql.Literal(self.password))
            )
        except BaseException:
            self.stop()
            raise

    def _run(self, tool: str, *args: str) -> None:
        proc = subprocess.run(
            [*self.prefix, str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=self.folder,
        )
        if proc.returncode != 0:
            log = self.folder / "server.log"
            detail = (proc.stderr or proc.stdout).strip() + ("\n" + log.read_text()[-1500:] if log.exists() else "")
            raise ClusterUnavailable(f"{tool} failed (exit {proc.returncode}): {detail[-2000:]}")

    def admin(self, query: Any, *, database: str = "postgres") -> None:
        """Run one statement as the cluster's superuser (autocommit: CREATE DATABASE needs it)."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=ADMIN,
            password=self.admin_password,
            dbname=database,
            autocommit=True,
            connect_timeout=10,
        ) as conn:
            conn.execute(query)

    def new_database(self, name: str) -> str:
        """A fresh database owned by gpverify's role; returns its URL (no password: it comes from the env)."""
        from psycopg import sql

        self.admin(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(USER)))
        return self.url(name)

    def url(self, database: str, user: str = USER) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run(
                [*self.prefix, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
                capture_output=True,
                timeout=60,
                check=False,
            )
        if self.watchdog is not None:
            self.watchdog.kill()
            self.watchdog.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

"""A throwaway PostgreSQL cluster for the test session: Debian's binaries, initdb + pg_ctl.

The cluster lives in a temporary directory, listens on a free loopback port and on a unix
socket in that directory, trusts local connections (nobody else can reach it) and runs
without fsync (a crash of the test machine loses nothing anyone needs). PostgreSQL refuses to
run as root, so under root it runs as the `postgres` user that Debian's package creates.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

PG_ROOT = Path("/usr/lib/postgresql")


class PostgresUnavailable(Exception):
    """No PostgreSQL server binaries here (apt-get install postgresql; `make test` does)."""


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    socket_dir: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = f"t_{secrets.token_hex(6)}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}".encode())
        return self.url(name)


def bin_dir() -> Path:
    versions = sorted(
        (p for p in PG_ROOT.glob("*") if (p / "bin" / "initdb").exists()),
        key=lambda p: int(p.name) if p.name.isdigit() else 0,
    )
    if not versions:
        raise PostgresUnavailable(
            "PostgreSQL's server binaries are not installed; run `apt-get install postgresql` "
            "(make test does it)"
        )
    return versions[-1] / "bin"


@contextmanager
def running_postgres(port: int) -> Iterator[PostgresServer]:
    binaries = bin_dir()
    base = Path(tempfile.mkdtemp(prefix="counsel-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        # PostgreSQL will not run as root: hand the directory to Debian's postgres user.
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = base / "data"

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=120)

    try:
        run(str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync")
        options = (f"-c port={port} -c listen_addresses=127.0.0.1 "
                   f"-c unix_socket_directories={base} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        run(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"),
            "-o", options, "-w", "-t", "60", "start")
        try:
            yield PostgresServer("127.0.0.1", port, base)
        finally:
            run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(base, ignore_errors=True)

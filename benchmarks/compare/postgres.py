"""The PostgreSQL server of a benchmark run: the harness's own, or a database on a given one."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from benchmarks.compare.processes import port_is_free


@dataclass(frozen=True, slots=True)
class Server:
    """Where a PostgreSQL server listens and who may connect as superuser."""

    host: str
    port: int
    user: str

    def url(self, database: str, *, user: str | None = None, driver: str = "postgresql") -> str:
        return f"{driver}://{user or self.user}@{self.host}:{self.port}/{database}"

    def sqlalchemy_url(self, database: str) -> str:
        return self.url(database, driver="postgresql+asyncpg")

    def psql(self, database: str, sql: str, *, variables: dict[str, str] | None = None) -> str:
        """Runs ``sql`` with psql, stops at the first error, returns unaligned output."""
        command = [
            "psql",
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            self.host,
            "-p",
            str(self.port),
            "-U",
            self.user,
            "-d",
            database,
        ]
        for name, value in (variables or {}).items():
            command += ["-v", f"{name}={value}"]
        done = subprocess.run(command, input=sql, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"psql on {database} failed: {done.stderr.strip()}\n{sql[:400]}")
        return done.stdout.strip()

    def version(self) -> str:
        return self.psql("postgres", "SHOW server_version")

    def create_database(self, name: str, *, template: str | None = None) -> None:
        """A new database; with ``template``, a copy of that one (nobody may be connected
        to it meanwhile)."""
        copy = f' TEMPLATE "{template}"' if template is not None else ""
        self.psql("postgres", f'CREATE DATABASE "{name}"{copy}')

    def drop_database(self, name: str) -> None:
        self.psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_of(url: str) -> Server:
    """The server of a SQLAlchemy or libpq URL, e.g. HUB_TEST_POSTGRES_URL."""
    parsed = make_url(url)
    return Server(parsed.host or "127.0.0.1", parsed.port or 5432, parsed.username or "postgres")


def find_binaries() -> Path:
    """The newest Debian PostgreSQL server binaries, /usr/lib/postgresql/<major>/bin."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
    )
    if not candidates:
        raise RuntimeError(
            "no PostgreSQL server under /usr/lib/postgresql: apt-get install postgresql"
        )
    return candidates[-1].parent


class OwnServer:
    """A throwaway server for one run: initdb in /tmp, 127.0.0.1 only, stopped and removed.

    As root it runs as the ``postgres`` user (PostgreSQL refuses root). pg_stat_statements is
    preloaded so that every contestant's statements can be counted the same way.
    """

    def __init__(self, port: int, shared_buffers: str) -> None:
        self.port = port
        self.shared_buffers = shared_buffers
        self.bin = find_binaries()
        self.directory = Path(tempfile.mkdtemp(prefix="hub-bench-postgres.", dir="/tmp"))
        self._started = False

    def _as_owner(self, command: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command

    def start(self) -> Server:
        if not port_is_free(self.port):
            raise RuntimeError(f"port {self.port} is taken: pass another --postgres-port")
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.directory, owner.pw_uid, owner.pw_gid)
        data = self.directory / "data"
        subprocess.run(
            self._as_owner(
                [
                    str(self.bin / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",
                    "--no-instructions",
                ]
            ),
            check=True,
            capture_output=True,
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.directory}'",
            "shared_buffers": self.shared_buffers,
            "shared_preload_libraries": "'pg_stat_statements'",
            "max_connections": "300",
            "maintenance_work_mem": "'512MB'",
            "max_wal_size": "'8GB'",
        }
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("\n# benchmarks/compare: a private, disposable server\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        subprocess.run(
            self._as_owner(
                [
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(self.directory / "log"),
                    "-w",
                    "-t",
                    "120",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        self._started = True
        return Server("127.0.0.1", self.port, "postgres")

    def stop(self) -> None:
        if self._started:
            subprocess.run(
                self._as_owner(
                    [
                        str(self.bin / "pg_ctl"),
                        "-D",
                        str(self.directory / "data"),
                        "-m",
                        "fast",
                        "-w",
                        "-t",
                        "60",
                        "stop",
                    ]
                ),
                check=False,
                capture_output=True,
            )
            self._started = False
        shutil.rmtree(self.directory, ignore_errors=True)


def wait_until_ready(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            server.psql("postgres", "SELECT 1")
            return
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)

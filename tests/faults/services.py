"""Throwaway PostgreSQL, Redis and Elasticsearch servers that fault tests stop, hang, restart.

Never the servers that scripts/test shares between the tests: other tests use those at the same
time. Each server here lives in a fresh directory under /tmp, listens on 127.0.0.1 only, and
runs as the unprivileged user its Debian package (or scripts/lib/elasticsearch.sh) uses when the
tests run as root, as the scripts in scripts/lib do.

``hang()`` sends SIGSTOP to the server and every process it started: connections are still
accepted by the kernel, but nothing answers, which is what a server stuck on a full disk or a
frozen VM looks like. ``resume()`` lets it go on.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = os.geteuid() == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
        except FileNotFoundError:
            continue
        for child in map(int, children):
            found += [child, *_descendants(child)]
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent's wait is missing.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def _wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return not _alive(pid)


def _private_directory(prefix: str, owner: str | None) -> Path:
    directory = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    if ROOT and owner is not None:
        entry = pwd.getpwnam(owner)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    return directory


class Server:
    """A server process with what a fault test does to it."""

    user: str | None = None

    def __init__(self) -> None:
        self.pid: int | None = None
        self.hung = False
        self._process: subprocess.Popen[bytes] | None = None

    def _as_user(self) -> dict[str, str]:
        return {"user": self.user} if ROOT and self.user else {}

    def processes(self) -> list[int]:
        if self.pid is None:
            return []
        return [self.pid, *_descendants(self.pid)]

    def hang(self) -> None:
        """Every process of the server stops where it is (SIGSTOP)."""
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        self.hung = True

    def resume(self) -> None:
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.hung = False

    @contextlib.contextmanager
    def hanging(self) -> Iterator[None]:
        self.hang()
        try:
            yield
        finally:
            self.resume()

    def kill(self) -> None:
        """Gone at once, as after a crash (SIGKILL to every process)."""
        processes = self.processes()
        for pid in processes:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for pid in processes:
            _wait_gone(pid, 10)
        if self._process is not None:
            self._process.wait(10)
        self.pid = None
        self.hung = False


class Postgres(Server):
    """A PostgreSQL cluster of its own; ``stop()`` and ``start()`` keep its data."""

    user = "postgres"

    def __init__(self) -> None:
        super().__init__()
        initdb = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not initdb:
            raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin)")
        self.bin = initdb[-1].parent
        self.directory = _private_directory("hub-fault-postgres.", self.user)
        self.data = self.directory / "data"
        self.port = free_port()
        subprocess.run(
            [
                str(self.bin / "initdb"),
                f"--pgdata={self.data}",
                "--username=postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
                "--no-instructions",
            ],
            check=True,
            capture_output=True,
            **self._as_user(),  # type: ignore[call-overload]
        )

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        log = open(self.directory / "server.log", "ab")  # noqa: SIM115 - the server keeps it
        self._process = subprocess.Popen(
            [
                str(self.bin / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={self.directory}",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            **self._as_user(),  # type: ignore[call-overload]
        )
        log.close()
        self.pid = self._process.pid
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
                check=False,
            )
            if ready.returncode == 0:
                return
            if self._process.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited: {self.log_tail()}")
            time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not start in 60 s: {self.log_tail()}")

    def stop(self) -> None:
        """A fast shutdown (SIGINT): sessions are ended, and the port is closed."""
        if self.hung:
            self.resume()
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
            try:
                self._process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.pid = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self) -> str:
        path = self.directory / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def close(self) -> None:
        self.stop()
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(5)
        shutil.rmtree(self.directory, ignore_errors=True)


class Redis(Server):
    user = "redis"

    def __init__(self) -> None:
        super().__init__()
        self.directory = _private_directory("hub-fault-redis.", self.user)
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **self._as_user(),  # type: ignore[call-overload]
        )
        self.pid = self._process.pid
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection,
            ):
                connection.sendall(b"PING\r\n")
                if connection.recv(16).startswith(b"+PONG"):
                    return
            if self._process.poll() is not None:
                raise RuntimeError("redis-server exited")
            time.sleep(0.05)
        raise RuntimeError("Redis did not start in 30 s")

    def stop(self) -> None:
        if self.hung:
            self.resume()
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.pid = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


ELASTICSEARCH_VERSION = os.environ.get("ELASTICSEARCH_VERSION", "8.19.21")
JAVA_HOMES = ("/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/temurin-25-jdk-amd64")


class Elasticsearch(Server):
    """A single node from the distribution scripts/lib/elasticsearch.sh unpacked and cached."""

    user = "hubsearch"

    def __init__(self) -> None:
        super().__init__()
        cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hub-test"
        distribution = cache / f"elasticsearch-{ELASTICSEARCH_VERSION}"
        if not (distribution / "bin" / "elasticsearch").exists():
            raise RuntimeError(
                f"no Elasticsearch under {distribution}: run scripts/test once, which fetches it"
            )
        java = next((home for home in JAVA_HOMES if Path(home, "bin", "java").exists()), None)
        if java is None:
            raise RuntimeError("no JDK for Elasticsearch under /usr/lib/jvm")
        self.java_home = java
        if ROOT:
            try:
                pwd.getpwnam(self.user)
            except KeyError:
                nologin = ["--no-create-home", "--shell", "/usr/sbin/nologin"]
                subprocess.run(["useradd", "--system", *nologin, self.user], check=True)
        self.directory = _private_directory("hub-fault-elasticsearch.", None)
        self.home = self.directory / "home"
        # A private copy: the node writes into its config directory and must own it.
        shutil.copytree(distribution, self.home, symlinks=True)
        (self.directory / "data").mkdir()
        self.port = free_port()
        transport = free_port()
        (self.home / "config" / "elasticsearch.yml").write_text(
            "\n".join(
                [
                    "cluster.name: hub-fault",
                    "node.name: hub-fault",
                    "discovery.type: single-node",
                    "network.host: 127.0.0.1",
                    f"http.port: {self.port}",
                    f"transport.port: {transport}",
                    f"path.data: {self.directory / 'data'}",
                    "xpack.security.enabled: false",
                    "cluster.routing.allocation.disk.threshold_enabled: false",
                    "action.destructive_requires_name: false",
                    "",
                ]
            )
        )
        if ROOT:
            subprocess.run(["chown", "-R", f"{self.user}:", str(self.directory)], check=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        pidfile = self.directory / "pid"
        command = [str(self.home / "bin" / "elasticsearch"), "-d", "-p", str(pidfile)]
        if ROOT:
            command = ["runuser", "-u", self.user, "--", *command]
        with open(self.directory / "stdout.log", "ab") as log:
            subprocess.run(
                command,
                check=True,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={
                    **os.environ,
                    "ES_JAVA_HOME": self.java_home,
                    "ES_JAVA_OPTS": "-Xms384m -Xmx384m",
                },
            )
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if self.pid is None and pidfile.exists() and pidfile.read_text().strip():
                self.pid = int(pidfile.read_text())
            if self.health() in ("green", "yellow"):
                return
            if self.pid is not None and not _alive(self.pid):
                raise RuntimeError("Elasticsearch exited")
            time.sleep(0.5)
        raise RuntimeError("Elasticsearch did not start in 240 s")

    def health(self) -> str:
        try:
            with urllib.request.urlopen(f"{self.url}/_cluster/health", timeout=2) as answer:
                return str(json.load(answer)["status"])
        except Exception:
            return "unreachable"

    def close(self) -> None:
        if self.hung:
            self.resume()
        if self.pid is not None and _alive(self.pid):
            os.kill(self.pid, signal.SIGTERM)
            if not _wait_gone(self.pid, 30):
                self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)

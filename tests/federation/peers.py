"""The test peers: Apollo's Node tooling beside this file, and processes on 127.0.0.1.

``scripts/test`` installs the Node packages (scripts/lib/node.sh runs ``npm ci`` here); the
tests fail, never skip, when they are missing. Every process is started with a deadline and
stopped by the fixture that started it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NODE_MODULES = HERE / "node_modules"
#: The ports this suite may use (the others belong to other services of the test machine).
PORTS = range(4100, 4200)


def node() -> str:
    """The node binary, with this directory's packages installed; fails the test otherwise."""
    found = shutil.which("node")
    if found is None or not (NODE_MODULES / "@apollo" / "composition").is_dir():
        pytest.fail(
            "Node 20 and tests/federation/node_modules are needed: run the suite with "
            "scripts/test, whose node service runs `npm ci` in tests/federation",
            pytrace=False,
        )
    return found


@dataclass(frozen=True)
class Composition:
    errors: list[dict[str, Any]]
    hints: list[dict[str, Any]]
    supergraph_sdl: str | None
    api_schema: str | None


def compose(
    subgraphs: Sequence[Mapping[str, str]], *, strip_authorization: bool = False
) -> Composition:
    """Compose ``[{"name", "url", "sdl"}]`` with @apollo/composition (compose.js)."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "subgraphs.json"
        path.write_text(json.dumps(list(subgraphs)), encoding="utf-8")
        flags = ["--strip-authorization"] if strip_authorization else []
        done = subprocess.run(
            [node(), str(HERE / "compose.js"), str(path), *flags],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if done.returncode not in (0, 1) or not done.stdout:
        pytest.fail(f"compose.js failed ({done.returncode}): {done.stderr}", pytrace=False)
    answer = json.loads(done.stdout)
    return Composition(
        errors=answer["errors"],
        hints=answer["hints"],
        supergraph_sdl=answer["supergraphSdl"],
        api_schema=answer["apiSchema"],
    )


def free_ports(count: int) -> list[int]:
    """``count`` ports of ``PORTS`` that nothing listens on right now."""
    found = []
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    pytest.fail(f"fewer than {count} free ports in {PORTS.start}..{PORTS.stop - 1}")


@dataclass
class Peer:
    """A process started by a test, with its output kept in a file for failure messages."""

    name: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    log_path: Path

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 10) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.log.close()


def start(
    name: str, command: Sequence[str], directory: Path, env: Mapping[str, str] | None = None
) -> Peer:
    log_path = directory / f"{name}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        list(command),
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return Peer(name, process, log, log_path)


def hub_command(*arguments: str) -> list[str]:
    """The ``hub`` command of this checkout, whatever the venv's entry points were built for."""
    return [sys.executable, "-c", "from hub.cli import main; main()", *arguments]


def wait_until_ready(peer: Peer, url: str, *, deadline: float, graphql: bool = False) -> None:
    """Polls ``url`` until it answers 200, the process dies, or ``deadline`` passes.

    With ``graphql`` the poll is the smallest GraphQL query, for servers without a health route.
    """
    while True:
        if peer.process.poll() is not None:
            pytest.fail(f"{peer.name} exited with {peer.process.returncode}:\n{peer.output()}")
        try:
            if graphql:
                response = httpx.post(url, json={"query": "{ __typename }"}, timeout=1)
            else:
                response = httpx.get(url, timeout=1)
            if response.status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{peer.name} not ready at {url} in time:\n{peer.output()}")
        time.sleep(0.1)


@contextmanager
def peers() -> Iterator[list[Peer]]:
    """A list to start processes into; every one of them is stopped on exit."""
    started: list[Peer] = []
    try:
        yield started
    finally:
        for peer in reversed(started):
            peer.stop()


def inspector_diff(
    old: Path, new: Path, *, record: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``graphql-inspector diff OLD NEW`` with the rule that lets recorded breaks through."""
    env = dict(os.environ)
    if record is not None:
        env["HUB_DELIBERATE_BREAKING_CHANGES"] = str(record)
    inspector = NODE_MODULES / ".bin" / "graphql-inspector"
    return subprocess.run(
        [node(), str(inspector), "diff", str(old), str(new), "--rule", str(HERE / "deliberate.js")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )

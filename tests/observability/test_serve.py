"""`hub serve` as a process: SIGTERM lets a request in flight finish, a bad setting stops the
start with one line naming it, logs are JSON lines, and the metrics of several workers add up."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from hub.app import create_app
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.migrate import upgrade
from tests.federation.peers import free_ports, hub_command
from tests.fixtures.oauth import BASE_URL, access_token, oauth_client

QUERY = json.dumps({"query": "query Slow { __typename }"}).encode()


class Served:
    def __init__(self, process: subprocess.Popen[bytes], port: int, stderr: Path) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}"
        self.port = port
        self.stderr = stderr

    def lines(self) -> list[str]:
        return [line for line in self.stderr.read_text().splitlines() if line.strip()]


def _env(directory: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'hub.db'}",
        "HUB_SIGNING_KEY_PATH": str(directory / "signing-key.pem"),
        "TMPDIR": str(directory),
        **extra,
    }


def _serve(directory: Path, *arguments: str, **env: str) -> Served:
    [port] = free_ports(1)
    stderr = directory / "stderr.log"
    with stderr.open("wb") as log:
        process = subprocess.Popen(
            hub_command("serve", "--port", str(port), *arguments),
            env=_env(directory, **env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    served = Served(process, port, stderr)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"hub serve exited with {process.returncode}:\n{stderr.read_text()}")
        try:
            if httpx.get(f"{served.url}/healthz", timeout=1).status_code == 200:
                return served
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    pytest.fail(f"hub serve did not answer:\n{stderr.read_text()}")


@pytest.fixture
def stopped() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes to kill if a test fails before it stopped them itself."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_sigterm_lets_the_request_in_flight_finish_and_exits_0(
    tmp_path: Path, stopped: list[subprocess.Popen[bytes]]
) -> None:
    served = _serve(tmp_path, "--shutdown-timeout", "20", HUB_LOG_FORMAT="json")
    stopped.append(served.process)
    # given a request whose body is still arriving
    connection = socket.create_connection(("127.0.0.1", served.port))
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
        b"X-Request-Id: in-flight-1\r\nContent-Length: %d\r\n\r\n" % len(QUERY)
    )
    connection.sendall(head + QUERY[:7])
    time.sleep(0.5)
    # when the hub is told to stop
    served.process.send_signal(signal.SIGTERM)
    time.sleep(1.5)
    # then it takes no new connection, but waits for the request in flight
    assert served.process.poll() is None
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", served.port), timeout=2)
    connection.sendall(QUERY[7:])
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    connection.close()
    status, _, rest = received.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert status == b"HTTP/1.1 200 OK"
    assert b"x-request-id: in-flight-1" in headers.lower()
    assert json.loads(body) == {"data": {"__typename": "Query"}}
    assert served.process.wait(timeout=30) == 0
    # and everything it logged is one JSON object per line, uvicorn's lines too
    records = [json.loads(line) for line in served.lines()]
    assert all({"time", "level", "logger", "message", "request_id"} <= set(r) for r in records)
    loggers = {r["logger"] for r in records}
    assert "uvicorn.error" in loggers
    assert "Shutting down" in [r["message"] for r in records]


def _answer(connection: socket.socket) -> tuple[bytes, bytes]:
    """One HTTP/1.1 response read off a connection kept open: its status line and body."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        assert chunk, f"the hub closed the connection: {received!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status, _, headers = head.partition(b"\r\n")
    [length] = [
        int(line.split(b":")[1])
        for line in headers.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    ]
    while len(body) < length:
        chunk = connection.recv(65536)
        assert chunk, f"the hub closed the connection: {received!r}"
        body += chunk
    return status, body


def test_an_idle_connection_outlives_the_routers_idle_timeout(
    tmp_path: Path, stopped: list[subprocess.Popen[bytes]]
) -> None:
    served = _serve(tmp_path)
    stopped.append(served.process)
    request = b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n"
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as connection:
        # given a connection a router used once and keeps in its pool
        connection.sendall(request)
        assert _answer(connection)[0] == b"HTTP/1.1 200 OK"
        # when it reuses it after 6 s idle (Node's agents keep idle connections 5 s)
        time.sleep(6)
        connection.sendall(request)
        # then the hub answers on it: it had not closed it under the router
        assert _answer(connection)[0] == b"HTTP/1.1 200 OK"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HUB_DATABASE_POOL_SIZE", "abc"),
        ("HUB_LIMITS__PUBLIC__MAX_COST", "lots"),
        ("HUB_TRUSTED_ROUTERS", "not json"),
        ("HUB_LOG_FORMAT", "xml"),
        ("HUB_DATABASE_URL", "nosuchdialect://x"),
    ],
)
def test_invalid_configuration_stops_the_start_with_one_line_naming_it(
    tmp_path: Path, variable: str, value: str
) -> None:
    done = subprocess.run(
        hub_command("serve", "--port", str(free_ports(1)[0])),
        env=_env(tmp_path, **{variable: value}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"Error: invalid configuration: {variable}: "), lines[0]
    assert "Traceback" not in done.stderr


async def _internal_token(directory: Path) -> str:
    url = f"sqlite+aiosqlite:///{directory / 'hub.db'}"
    engine = create_engine(url)
    try:
        await upgrade(engine)
        maker = create_sessionmaker(engine)
        async with maker() as session:
            credentials = await oauth_client(session, tier="internal", scopes=(), name="ops")
            await session.commit()
        settings = Settings(database_url=url, signing_key_path=directory / "signing-key.pem")
        app = create_app(settings, sessionmaker=maker)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as hub:
            return await access_token(hub, credentials)
    finally:
        await engine.dispose()


def test_the_metrics_of_several_workers_add_up(
    tmp_path: Path, stopped: list[subprocess.Popen[bytes]]
) -> None:
    token = asyncio.run(_internal_token(tmp_path))
    served = _serve(tmp_path, "--workers", "2", HUB_LIMITS__PUBLIC__RATE_LIMIT="100000")
    stopped.append(served.process)
    (metrics_dir,) = tmp_path.glob("hub-metrics-*")
    with httpx.Client(base_url=served.url, timeout=10) as client:
        for _ in range(40):
            # a new connection each time, so that both workers take some
            answer = httpx.post(f"{served.url}/graphql", json={"query": "{ __typename }"})
            assert answer.status_code == 200
        time.sleep(6)  # every worker has reported its pool since it started
        scrapes = []
        for _ in range(4):
            response = client.get("/metrics", headers={"authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.text
            scrapes.append(
                {
                    (s.name, tuple(sorted(s.labels.items()))): s.value
                    for f in text_string_to_metric_families(response.text)
                    for s in f.samples
                }
            )
    labels = (("plan", "resolvers"), ("status", "200"), ("tier", "public"))
    for samples in scrapes:
        assert samples[("hub_graphql_requests_total", labels)] == 40
        assert samples[("hub_db_pool_size", ())] == 2 * 5  # SQLite's pool of 5, per worker
    assert len(list(metrics_dir.glob("*.db"))) >= 2
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=60) == 0
    assert not metrics_dir.exists()

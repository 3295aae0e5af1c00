"""Soak: the mixed public and partner workloads at saturation for a long time, watching for
leaks.

    python -m benchmarks.soak                          10 minutes, SQLite, 2,000 enterprises
    python -m benchmarks.soak --duration 60 --postgres-url postgresql+asyncpg://u@h:5432/postgres

It starts its own `hub serve` (production mode, rate limits lifted) on a new database (a SQLite
file, or a database made on the given PostgreSQL server and dropped at the end) with demo data,
and keeps ``--connections`` clients busy, each sending, in turn: the README's whole credit file
of a random enterprise, a blacklist page, a search, and a partner's batch of 20 enterprises
with a bearer token. Every ``--interval`` seconds it prints one line: requests and errors in
the interval, the hub's RSS (all its processes), its established TCP connections (to its
clients and to anything else, such as PostgreSQL) and PostgreSQL's ``pg_stat_activity``
count for the database. The summary checks the goals: no error, RSS within 10% of its value
after the first minute (``--baseline``), and no growth in connections after it. The exit
status is 0 when every goal is met.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from benchmarks.compare.processes import port_is_free

ROOT = Path(__file__).resolve().parents[1]

CREDIT_FILE = """query CreditFile($u: String!) { enterprise(uscc: $u) {
    uscc name status region { code name } industry { code name }
    creditGrade creditHistory(first: 5) { nodes { grade score evaluatedAt authority basis } }
    blacklisted blacklistEntries { listType reason legalBasis authority listedAt publicityEndsOn
      removedAt removalReason }
    licences(first: 10) { nodes { number product status validFrom validUntil
      history { status at reason } } }
    spotChecks(first: 10) { nodes { level sampledAt product { name brand gtin } result
      failedItems { item standard required measured } inspectingBody publishedAt } }
    recalls(first: 10) { nodes { noticeNumber title hazard remedy affectedUnits startedOn status } }
    products(first: 10) { nodes { name brand model gtin category } } } }"""
BLACKLIST = """query BlacklistPage { blacklist(filter: { regionCode: "440000" }, first: 50) {
    nodes { decisionNumber listType reason listedAt publicityEndsOn
      enterprise { uscc name } } } }"""
SEARCH = """query Search($q: String!) { searchEnterprises(query: $q, first: 10) {
    totalCount nodes { uscc name creditGrade blacklisted } } }"""
BATCH = 20
PARTNER_BATCH = (
    "query PartnerBatch("
    + ", ".join(f"$u{i}: String!" for i in range(BATCH))
    + ") { "
    + " ".join(
        f"e{i}: enterprise(uscc: $u{i}) {{ uscc creditGrade blacklisted }}" for i in range(BATCH)
    )
    + " }"
)
SEARCH_TERMS = ("华为", "科技", "电子", "食品", "有限公司", "Tech", "深圳", "机械")
LIFTED = {
    # One address sends everything: the rate budgets would refuse most of it.
    "HUB_LIMITS__PUBLIC__RATE_LIMIT": "1000000000",
    "HUB_LIMITS__PARTNER__RATE_LIMIT": "1000000000",
}


@dataclass
class Interval:
    seconds: float
    length: float
    requests: int
    errors: int
    rss_mb: float
    client_connections: int
    other_connections: int
    postgres_connections: int | None

    def line(self) -> str:
        rate = self.requests / max(self.length, 1e-9)
        postgres = "-" if self.postgres_connections is None else str(self.postgres_connections)
        return (
            f"t={self.seconds:7.1f}s requests={self.requests:7d} ({rate:7.1f}/s) "
            f"errors={self.errors} rss={self.rss_mb:8.1f}MB "
            f"connections: clients={self.client_connections} "
            f"other={self.other_connections} postgres={postgres}"
        )


@dataclass
class Counts:
    requests: int = 0
    errors: int = 0
    examples: list[str] = field(default_factory=list)

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.examples) < 5:
            self.examples.append(what)


def _hub(*arguments: str) -> list[str]:
    return [sys.executable, "-c", "from hub.cli import main; main()", *arguments]


def _processes(pid: int) -> list[int]:
    """``pid`` and its descendants (the workers of ``hub serve --workers N``)."""
    found = [pid]
    for current in found:
        children = Path(f"/proc/{current}/task/{current}/children")
        try:
            found += [int(child) for child in children.read_text().split()]
        except OSError:
            continue
    return found


def _rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _connections(pids: list[int], port: int) -> tuple[int, int]:
    """The hub's established TCP connections: to its own port (clients), and any other."""
    inodes: set[str] = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    clients = other = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] != "01" or fields[9] not in inodes:  # 01: ESTABLISHED
                continue
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port:
                clients += 1
            else:
                other += 1
    return clients, other


@contextmanager
def _database(postgres_url: str | None, directory: Path) -> Iterator[tuple[str, str | None]]:
    """The hub's database URL, and the name of the PostgreSQL database to count sessions of."""
    if postgres_url is None:
        yield f"sqlite+aiosqlite:///{directory / 'soak.db'}", None
        return
    from hub.db import create_engine

    name = f"hub_soak_{uuid.uuid4().hex[:10]}"

    async def run(statement: str) -> None:
        engine = create_engine(postgres_url, pool_size=1)
        try:
            async with engine.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{postgres_url.rsplit('/', 1)[0]}/{name}", name
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _postgres_sessions(url: str, name: str) -> int:
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql", 1))
    try:
        count = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await connection.close()
    return int(count)


async def _partner_client(database_url: str) -> tuple[str, str]:
    """A partner's OAuth client (id and secret), written straight into the soak's database."""
    from hub.auth.clients import ClientService
    from hub.db import create_engine, create_sessionmaker

    engine = create_engine(database_url, pool_size=2)
    try:
        async with create_sessionmaker(engine)() as session:
            issued = await ClientService(session).create(
                name="soak partner", tier="partner", scopes=("credit:read",)
            )
            await session.commit()
        return issued.client.client_id, issued.client_secret
    finally:
        await engine.dispose()


class PartnerTokens:
    """The partner's bearer token, renewed from the hub's token endpoint as a partner would:
    when half its lifetime has passed, so that a soak longer than a token's life (5 minutes)
    never sends an expired one."""

    def __init__(self, url: str, client: tuple[str, str]) -> None:
        self.url = url
        self.client = client
        self.token = ""
        self.renew_at = 0.0
        self.lock = asyncio.Lock()

    async def bearer(self) -> dict[str, str]:
        async with self.lock:
            if time.monotonic() >= self.renew_at:
                async with httpx.AsyncClient(base_url=self.url, timeout=30) as hub:
                    response = await hub.post(
                        "/oauth/token", data={"grant_type": "client_credentials"}, auth=self.client
                    )
                response.raise_for_status()
                issued = response.json()
                self.token = issued["access_token"]
                self.renew_at = time.monotonic() + issued["expires_in"] / 2
        return {"authorization": f"Bearer {self.token}"}


def _answered(response: httpx.Response) -> str | None:
    """Why ``response`` is an error, or None."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.text[:200]}"
    if body.get("errors"):
        return f"errors: {json.dumps(body['errors'], ensure_ascii=False)[:200]}"
    return None


async def _client(
    url: str, keys: list[str], tokens: PartnerTokens, until: float, counts: Counts, seed: int
) -> None:
    chooser = random.Random(seed)
    turn = seed
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while time.monotonic() < until:
            turn += 1
            kind = turn % 4
            headers: dict[str, str] = {}
            if kind == 0:
                body: dict[str, Any] = {
                    "query": CREDIT_FILE,
                    "variables": {"u": chooser.choice(keys)},
                }
            elif kind == 1:
                body = {"query": BLACKLIST}
            elif kind == 2:
                body = {"query": SEARCH, "variables": {"q": chooser.choice(SEARCH_TERMS)}}
            else:
                batch = chooser.sample(keys, min(BATCH, len(keys)))
                body = {
                    "query": PARTNER_BATCH,
                    "variables": {f"u{i}": batch[i % len(batch)] for i in range(BATCH)},
                }
                headers = await tokens.bearer()
            try:
                response = await client.post("/graphql", json=body, headers=headers)
            except httpx.HTTPError as error:
                counts.error(f"{type(error).__name__}: {error}")
                continue
            counts.requests += 1
            problem = _answered(response)
            if problem is not None:
                counts.error(problem)


async def _keys(url: str) -> list[str]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        response = await client.post(
            "/graphql", json={"query": "{ enterprises(first: 100) { nodes { uscc } } }"}
        )
        response.raise_for_status()
        return [node["uscc"] for node in response.json()["data"]["enterprises"]["nodes"]]


def _start(arguments: argparse.Namespace, database_url: str, directory: Path) -> tuple[Any, int]:
    port = arguments.port
    if not port_is_free(port):
        raise SystemExit(f"port {port} is taken: pass --port")
    env = {
        **os.environ,
        **LIFTED,
        "HUB_ENV": "production",
        "HUB_DATABASE_URL": database_url,
        "HUB_SIGNING_KEY_PATH": str(directory / "signing-key.pem"),
        "HUB_LOG_FORMAT": "json",
    }
    log = (directory / "hub.log").open("wb")
    command = _hub(
        "serve",
        "--demo",
        "--enterprises",
        str(arguments.enterprises),
        "--port",
        str(port),
        "--workers",
        str(arguments.workers),
    )
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=log
    )
    log.close()
    deadline = time.monotonic() + arguments.start_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"hub serve exited:\n{(directory / 'hub.log').read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process, port
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    process.kill()
    raise SystemExit("hub serve did not start in time")


LAST_LINE_GRACE = 1.0
"""Seconds the clients keep sending after the last line is sampled."""


async def _soak(
    arguments: argparse.Namespace, process: Any, port: int, database: tuple[str, str | None]
) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}"
    keys = await _keys(url)
    tokens = PartnerTokens(url, await _partner_client(database[0]))
    counts = Counts()
    started = time.monotonic()
    until = started + arguments.duration
    # The clients go on a moment past the last line, so that it is sampled while every one of
    # them is still connected, not as they hang up.
    clients = [
        asyncio.create_task(_client(url, keys, tokens, until + LAST_LINE_GRACE, counts, seed))
        for seed in range(arguments.connections)
    ]
    intervals: list[Interval] = []
    seen_requests = seen_errors = 0
    last = started
    while True:
        await asyncio.sleep(min(arguments.interval, max(0.0, until - time.monotonic())))
        pids = _processes(process.pid)
        clients_open, other_open = _connections(pids, port)
        postgres = (
            await _postgres_sessions(database[0], database[1]) if database[1] is not None else None
        )
        now = time.monotonic()
        interval = Interval(
            seconds=round(now - started, 1),
            length=round(now - last, 2),
            requests=counts.requests - seen_requests,
            errors=counts.errors - seen_errors,
            rss_mb=round(_rss_mb(pids), 1),
            client_connections=clients_open,
            other_connections=other_open,
            postgres_connections=postgres,
        )
        seen_requests, seen_errors, last = counts.requests, counts.errors, now
        intervals.append(interval)
        print(interval.line(), flush=True)
        if time.monotonic() >= until:
            break
    await asyncio.gather(*clients)
    # Requests in flight at the end finished after the last line: they belong to its interval.
    intervals[-1].requests += counts.requests - seen_requests
    intervals[-1].errors += counts.errors - seen_errors
    return _summary(arguments, intervals, counts)


def _summary(
    arguments: argparse.Namespace, intervals: list[Interval], counts: Counts
) -> dict[str, Any]:
    after = [i for i in intervals if i.seconds >= arguments.baseline] or intervals[-1:]
    base = after[0]
    rss_max = max(i.rss_mb for i in after)
    rss_min = min(i.rss_mb for i in after)
    within = rss_max <= base.rss_mb * 1.10 and rss_min >= base.rss_mb * 0.90

    def grew(of: str) -> bool:
        # A leak stays: the last samples (their median, so that a connection caught open for
        # a moment, such as the partner's token renewal, is not taken for one) above the
        # first after the baseline.
        values = [getattr(i, of) for i in after]
        if values[0] is None:
            return False
        return bool(statistics.median(values[-3:]) > values[0])

    connections_grew = {
        name: grew(name)
        for name in ("client_connections", "other_connections", "postgres_connections")
    }
    seconds = intervals[-1].seconds if intervals else 0.0
    return {
        "duration_seconds": seconds,
        "requests": counts.requests,
        "requests_per_second": round(counts.requests / seconds, 1) if seconds else 0.0,
        "errors": counts.errors,
        "error_examples": counts.examples,
        "rss_baseline_mb": base.rss_mb,
        "rss_max_mb": rss_max,
        "rss_min_mb": rss_min,
        "rss_within_10_percent": within,
        "connections_grew": connections_grew,
        "ok": counts.errors == 0 and within and not any(connections_grew.values()),
        "intervals": [asdict(i) for i in intervals],
    }


def _print_summary(summary: dict[str, Any]) -> None:
    print(
        f"summary: {summary['requests']} requests in {summary['duration_seconds']} s "
        f"({summary['requests_per_second']}/s), errors={summary['errors']}, "
        f"rss {summary['rss_baseline_mb']} MB after the baseline -> "
        f"{summary['rss_min_mb']}..{summary['rss_max_mb']} MB "
        f"(within 10%: {summary['rss_within_10_percent']}), "
        f"connections grew: {summary['connections_grew']}, ok={summary['ok']}",
        flush=True,
    )
    for example in summary["error_examples"]:
        print(f"error: {example}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--duration", type=float, default=600, help="seconds of load (600)")
    parser.add_argument("--interval", type=float, default=10, help="seconds per line (10)")
    parser.add_argument(
        "--baseline", type=float, default=60, help="seconds after which RSS is the baseline (60)"
    )
    parser.add_argument("--connections", type=int, default=16, help="clients at once (16)")
    parser.add_argument("--enterprises", type=int, default=2000, help="demo data size (2000)")
    parser.add_argument("--workers", type=int, default=1, help="hub serve --workers (1)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--postgres-url", help="a PostgreSQL server (admin URL); else SQLite")
    parser.add_argument("--start-timeout", type=float, default=600)
    parser.add_argument("--json", type=Path, help="write the summary and intervals here")
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hub-soak-") as directory:
        arguments.directory = directory
        with _database(arguments.postgres_url, Path(directory)) as database:
            process, port = _start(arguments, database[0], Path(directory))
            try:
                summary = asyncio.run(_soak(arguments, process, port, database))
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    summary_exit = process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    summary_exit = process.wait()
    summary["hub_exit_status"] = summary_exit
    _print_summary(summary)
    if arguments.json is not None:
        arguments.json.write_text(json.dumps(summary, indent=2))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

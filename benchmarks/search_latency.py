"""Search latency per backend through GraphQL over HTTP, on a fixed query set; reindex time.

    python benchmarks/search_latency.py --database-url postgresql+asyncpg://... \
        [--search-url http://127.0.0.1:9241] [--enterprises 1000000] [--repeat 20]

Seeds an empty database with ``hub.demo.seed.seed`` (an already seeded one is used as it is),
rebuilds the embedded index and, with --search-url, an Elasticsearch one under a prefix of its
own, timing each. Then, per backend, it starts ``hub serve`` (one worker, production mode, the
public tier's rate and size limits raised but still checked) and replays the query set of
``benchmarks/search_queries.json`` over HTTP: a warm-up pass, then ``--repeat`` times as many
random draws from the set as it has queries, one client at a time, then ``--clients`` clients
at once for ``--seconds`` seconds (throughput). For Elasticsearch, each draw of a text query
also sends the body the hub sends for it straight to the node, before or after the hub's
request at random, from the same HTTP client (``Direct``): the hub's own cost is the
difference of the medians. It writes ``<output>/<date>-search-<size>.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.auth.principal import Tier
from hub.db import HubSession, create_engine, create_sessionmaker
from hub.demo.seed import seed
from hub.enterprise.models import Enterprise
from hub.migrate import upgrade
from schema.build import build_schema
from schema.search.queries import filter_conditions
from search.backend import (
    Conditions,
    SearchRequest,
)
from search.documents import Kind
from search.elastic import ElasticBackend
from search.embedded import EmbeddedBackend
from search.indexer import reindex, sync_once
from search.outbox import ELASTICSEARCH, EMBEDDED
from search.service import detect_code, parse

ROOT = Path(__file__).resolve().parent.parent
QUERIES = Path(__file__).resolve().parent / "search_queries.json"
RESULTS = Path(__file__).resolve().parent / "results"
# One address sends every request: the public tier's budgets would refuse most of them. The
# limits are still checked on each request, so their cost is in the figures.
LIFTED = {
    "HUB_LIMITS__PUBLIC__RATE_LIMIT": "1000000000",
    "HUB_LIMITS__PUBLIC__MAX_COST": "100000000",
}
# Seconds between the served hub's rebuilds of the heads: longer than any run.
HELD_OFF = 86_400
FIELDS = {
    "searchEnterprises": Kind.ENTERPRISE,
    "searchRecalls": Kind.RECALL,
    "searchConsumerWarnings": Kind.WARNING,
}


@dataclass(frozen=True, slots=True)
class Query:
    id: str
    field: str
    text: str
    filter: dict[str, Any] | None
    facets: bool
    first: int
    what: str

    def body(self, documents: dict[str, dict[str, str]]) -> dict[str, Any]:
        document = documents[self.field]["facets" if self.facets else "page"]
        variables = {"query": self.text, "filter": self.filter, "first": self.first}
        return {"query": document, "variables": variables}

    @property
    def label(self) -> str:
        shown = ", ".join(f"{k} {json.dumps(v, ensure_ascii=False)}" for k, v in self.filter_items)
        return (
            f"{self.text}" + (f" [{shown}]" if shown else "") + (" +facets" if self.facets else "")
        )

    @property
    def filter_items(self) -> list[tuple[str, Any]]:
        return sorted((self.filter or {}).items())

    @property
    def is_code(self) -> bool:
        """Whether the hub answers it by a code lookup, never from a text index."""
        return detect_code(self.text) is not None


@dataclass(frozen=True, slots=True)
class QuerySet:
    documents: dict[str, dict[str, str]]
    queries: list[Query]


def load_queries(path: Path) -> QuerySet:
    raw = json.loads(path.read_text())
    queries = [
        Query(
            id=item["id"],
            field=item["field"],
            text=item["query"],
            filter=item["filter"],
            facets=item["facets"],
            first=item["first"],
            what=item["what"],
        )
        for item in raw["queries"]
    ]
    return QuerySet(documents=raw["documents"], queries=queries)


def conditions(query: Query) -> Conditions:
    """The conditions the hub takes from the query's GraphQL filter, by the schema's own
    reading of it (``schema.search.queries.filter_conditions``), for the request sent to
    Elasticsearch directly: the two requests compared cannot drift apart."""
    return filter_conditions(build_schema(Tier.PUBLIC), FIELDS[query.field], query.filter)


def load() -> str:
    """The machine's load average (1, 5, 15 min): the figures mean little without it."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def python_speed() -> float:
    """Milliseconds for 5,000,000 additions in a Python loop (the median of three): how fast
    the machine runs the hub's kind of work now. On a shared machine it moves by a third
    within an hour, and every figure with it: compare runs only at a like speed."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for number in range(5_000_000):
            total += number
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` of 0.95 for p95)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def size_label(enterprises: int) -> str:
    if enterprises % 1_000_000 == 0:
        return f"{enterprises // 1_000_000}m"
    if enterprises % 1_000 == 0:
        return f"{enterprises // 1_000}k"
    return str(enterprises)


# The hub as a process ---------------------------------------------------------------------


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass(frozen=True, slots=True)
class Hub:
    """A ``hub serve`` process: its GraphQL URL and its process id."""

    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """The CPU time the process has used so far, user and system."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def hub_server(
    database_url: str, port: int, logs: Path, elastic: ElasticBackend | None
) -> Iterator[Hub]:
    """``hub serve`` (one worker, production) on ``port``; yields it once it answers."""
    env = {
        **os.environ,
        **LIFTED,
        "HUB_ENV": "production",
        "HUB_DATABASE_URL": database_url,
        "HUB_SIGNING_KEY_PATH": str(logs / "signing-key.pem"),
        "HUB_LOG_LEVEL": "WARNING",
        "HUB_SEARCH_HEADS_INTERVAL": str(HELD_OFF),
    }
    env.pop("HUB_SEARCH_URL", None)
    if elastic is not None:
        env["HUB_SEARCH_URL"] = elastic.url
        env["HUB_SEARCH_INDEX_PREFIX"] = elastic.prefix
    hub = shutil.which("hub", path=str(Path(sys.executable).parent)) or "hub"
    command = [hub, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    log_path = logs / f"hub-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
    try:
        if not port_is_free(port):
            raise SystemExit(f"port {port} is taken: pass another --port")
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"hub serve exited:\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("hub serve did not answer /healthz within 120 s")
            time.sleep(0.25)
        yield Hub(f"http://127.0.0.1:{port}/graphql", process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# Replaying the set ------------------------------------------------------------------------


@dataclass(slots=True)
class Seen:
    """What the answers of one query said (the same every time, or the run fails)."""

    total: int
    exact: bool
    backend: str
    reason: str | None


class Replay:
    """Sends queries of the set to the hub and checks each answer."""

    def __init__(self, url: str, queries: QuerySet, backend: str) -> None:
        self.url = url
        self.queries = queries
        self.backend = backend
        self.seen: dict[str, Seen] = {}
        # Query id -> answers that were errors (a timeout is one: its latency still counts).
        self.errors: dict[str, list[str]] = {}
        self.sent = 0  # requests sent, the warm-up's included

    async def send(self, client: httpx.AsyncClient, query: Query) -> float:
        """One request; its latency in milliseconds."""
        # Encoded before the clock starts, as ``Direct``'s bodies are.
        body = orjson.dumps(query.body(self.queries.documents))
        started = time.perf_counter()
        response = await client.post(self.url, content=body, headers=_JSON)
        elapsed = (time.perf_counter() - started) * 1000
        self.sent += 1
        self._check(query, response)
        return elapsed

    def _check(self, query: Query, response: httpx.Response) -> None:
        problem = None
        answer: dict[str, Any] = {}
        try:
            answer = response.json()
        except ValueError:
            problem = f"HTTP {response.status_code}, not JSON"
        if problem is None and (response.status_code != 200 or answer.get("errors")):
            codes = [e.get("extensions", {}).get("code") for e in answer.get("errors", [])]
            problem = f"HTTP {response.status_code} {codes}"
        if problem is not None:
            self.errors.setdefault(query.id, []).append(problem)
            return
        found = answer["data"][query.field]
        search = answer["extensions"]["search"]
        seen = Seen(found["totalCount"], found["totalCountExact"], search["backend"], None)
        seen.reason = search.get("reason")
        # A code is looked up in the database whatever the backend; anything else must come
        # from the backend measured, not from a fallback.
        if seen.backend != self.backend and not (query.is_code and seen.reason):
            raise SystemExit(
                f"{query.id} {query.label}: answered by {seen.backend} ({seen.reason})"
            )
        self.seen.setdefault(query.id, seen)

    async def latencies(
        self, draws: int, seed: int, direct: Direct | None = None
    ) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
        """One client: a warm-up pass over the set, then ``draws`` random draws; and, with
        ``direct``, each text query's request sent straight to Elasticsearch too, in the same
        draw, before or after the hub's at random (``Direct``)."""
        chooser = random.Random(seed)
        order = random.Random(seed + 1)  # apart: the draws are the same with or without
        timings: dict[str, list[float]] = {query.id: [] for query in self.queries.queries}
        straight: dict[str, list[float]] = {}
        async with httpx.AsyncClient(timeout=120) as client:
            for query in self.queries.queries * 2:
                # The node first: right after a reindex its first answers (the aggregations'
                # ordinals built) can take longer than the hub waits, and the hub would answer
                # from the embedded index instead.
                if direct is not None and direct.sends(query):
                    await direct.send(client, query)
                await self.send(client, query)
            for _ in range(draws):
                query = chooser.choice(self.queries.queries)
                sends = [(self.send, timings[query.id])]
                if direct is not None and direct.sends(query):
                    sends.append((direct.send, straight.setdefault(query.id, [])))
                    order.shuffle(sends)
                for send, found in sends:
                    found.append(await send(client, query))
        return timings, straight

    async def throughput(self, clients: int, seconds: float, seed: int) -> tuple[float, float]:
        """(requests per second, p50 ms) with ``clients`` clients sending random draws."""
        until = time.monotonic() + seconds
        every: list[float] = []

        async def one(number: int) -> None:
            chooser = random.Random(seed + number)
            async with httpx.AsyncClient(timeout=120) as client:
                while time.monotonic() < until:
                    every.append(await self.send(client, chooser.choice(self.queries.queries)))

        started = time.monotonic()
        await asyncio.gather(*(one(number) for number in range(clients)))
        return len(every) / (time.monotonic() - started), percentile(every, 0.5)


class Direct:
    """The hub's Elasticsearch request of each text query, sent straight to the node: what the
    hub adds is the rest of its time.

    Sent by the replay's own HTTP client, in the same draw as the hub's request (before or
    after it at random): the client's cost is then in both figures, and so is whatever load
    the machine has at that moment. With the hub's Elasticsearch client instead (aiohttp),
    and after the replay, the difference also held httpx's extra 1.3 ms a request over
    aiohttp's (measured on both the hub's and the node's requests at 1M) and the drift
    between the two replays."""

    def __init__(self, elastic: ElasticBackend, queries: list[Query]) -> None:
        now = datetime.now(UTC)
        self.url = elastic.url.rstrip("/")
        self.requests: dict[str, tuple[str, bytes, dict[str, str]]] = {}
        for query in queries:
            if query.is_code:
                continue
            kind = FIELDS[query.field]
            request = SearchRequest(
                kind=kind,
                query=parse(query.text),
                conditions=conditions(query),
                first=query.first,
                with_facets=query.facets,
                now=now,
            )
            path, body, headers = elastic.search_request(request)
            self.requests[query.id] = (self.url + path, body, headers)

    def sends(self, query: Query) -> bool:
        return query.id in self.requests

    async def send(self, client: httpx.AsyncClient, query: Query) -> float:
        """One request; its latency in milliseconds."""
        url, body, headers = self.requests[query.id]
        started = time.perf_counter()
        response = await client.post(url, content=body, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        # An _msearch answers 200 with an error for each search the node refused.
        if response.status_code != 200 or any(
            "error" in answer for answer in orjson.loads(response.content).get("responses", [])
        ):
            raise SystemExit(f"{query.id}: Elasticsearch answered {response.text[:500]}")
        return elapsed


_JSON = {"content-type": "application/json"}


# The run ----------------------------------------------------------------------------------


async def settle(
    sessionmaker: async_sessionmaker[HubSession], backend: ElasticBackend | None
) -> float:
    """Relay passes until the relay has nothing left to do but wait: the outbox drained, the
    heads built, every chosen tally built (a pass builds them for ``TALLY_SECONDS``; after a
    reindex at 1M, about a thousand). What a served hub's relay does in its first minutes;
    the measured hub then searches the index as it stands from then on. How many seconds."""
    started = time.perf_counter()
    while True:
        await sync_once(sessionmaker, backend)
        async with sessionmaker() as session:
            if not await EmbeddedBackend(session).tallies_to_build():
                break
    took = time.perf_counter() - started
    print(f"relay: {took:.1f}s until it had nothing to do", flush=True)
    return round(took, 1)


def summary(timings: dict[str, list[float]], ids: set[str] | None = None) -> dict[str, float]:
    every = [t for key, values in timings.items() if ids is None or key in ids for t in values]
    return {
        "p50_ms": round(percentile(every, 0.5), 2),
        "p95_ms": round(percentile(every, 0.95), 2),
        "mean_ms": round(statistics.fmean(every), 2),
        "requests": len(every),
    }


def per_query(
    queries: QuerySet,
    timings: dict[str, list[float]],
    seen: dict[str, Seen],
    errors: dict[str, list[str]],
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for query in queries.queries:
        values = timings[query.id]
        answer = seen.get(query.id)
        found[query.id] = {
            "query": query.text,
            "field": query.field,
            "filter": query.filter,
            "facets": query.facets,
            "total": answer.total if answer else None,
            "total_exact": answer.exact if answer else None,
            "answered_by": seen[query.id].backend if query.id in seen else None,
            "errors": len(errors.get(query.id, [])),
            "n": len(values),
            "p50_ms": round(percentile(values, 0.5), 2) if values else None,
            "p95_ms": round(percentile(values, 0.95), 2) if values else None,
        }
    return found


def code_version() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "search", "benchmarks", "schema", "migrations"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return commit + (" + uncommitted changes" if dirty else "") if commit else "unknown"


async def main(arguments: argparse.Namespace) -> dict[str, Any]:
    queries = load_queries(arguments.queries)
    engine = create_engine(arguments.database_url, pool_size=4)
    sessionmaker = create_sessionmaker(engine)
    await upgrade(engine)
    async with sessionmaker() as session:
        enterprises = int(await session.scalar(select(func.count()).select_from(Enterprise)) or 0)
    if enterprises == 0:
        report = await seed(engine, enterprises=arguments.enterprises, progress=True)
        enterprises = arguments.enterprises
        print(f"seeded {enterprises:,} enterprises in {report.seconds:.0f}s", flush=True)
    prefix = arguments.search_prefix or f"bench-{uuid.uuid4().hex[:6]}"
    elastic = (
        ElasticBackend(arguments.search_url, prefix=prefix, timeout=300)
        if arguments.search_url
        else None
    )
    draws = arguments.repeat * len(queries.queries)
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": arguments.code or code_version(),
        "enterprises": enterprises,
        "documents": None,
        "clients": 1,
        "queries": len(queries.queries),
        "draws": draws,
        "throughput_clients": arguments.clients,
        "throughput_seconds": arguments.seconds,
        "backends": {},
    }
    try:
        targets = {EMBEDDED: None} | ({ELASTICSEARCH: elastic} if elastic is not None else {})
        for target in targets:
            entry: dict[str, Any] = {}
            if target in arguments.reindex:
                cpu = time.process_time()
                done = await reindex(sessionmaker, target, elastic)
                entry.update(
                    reindex_s=round(done.seconds, 1),
                    reindex_documents=done.total,
                    reindex_documents_per_s=round(done.per_second),
                    reindex_cpu_s_of_this_process=round(time.process_time() - cpu),
                    reindex_load=load(),
                )
                result["documents"] = done.total
                print(
                    f"reindex {target}: {done.total:,} documents in {done.seconds:.1f}s, "
                    f"{done.per_second:,.0f} documents/s (this process "
                    f"{time.process_time() - cpu:.0f} CPU s; load {load()})",
                    flush=True,
                )
            else:
                entry["reindex_s"] = None
            result["backends"][target] = entry
        with tempfile.TemporaryDirectory(prefix="search-bench-") as logs:
            for number, (target, backend) in enumerate(targets.items()):
                entry = result["backends"][target]
                # A port of its own per backend: the previous server may still be closing.
                port = arguments.port + number
                # The relay's work first (the outbox; the heads, when due; the tallies a
                # reindex left it to build), and the periodic rebuild of the heads held off
                # while the hub is measured: at 1M it takes the CPU for a while, and fell
                # inside some runs and not others.
                entry["relay_s"] = await settle(sessionmaker, backend)
                # Before the hub starts: its start-up reads (the public statistics) take the
                # machine for a while.
                entry["python_loop_ms"] = python_speed()
                with hub_server(arguments.database_url, port, Path(logs), backend) as hub:
                    replay = Replay(hub.url, queries, target)
                    entry["load_before"] = load()
                    direct = Direct(backend, queries.queries) if backend is not None else None
                    cpu = hub.cpu_seconds()
                    timings, straight = await replay.latencies(draws, arguments.draw_seed, direct)
                    cpu = hub.cpu_seconds() - cpu
                    entry.update(summary(timings))
                    # The warm-up pass's requests included, as in ``cpu``.
                    entry["hub_cpu_ms_per_request"] = round(cpu * 1000 / replay.sent, 2)
                    entry["per_query"] = per_query(queries, timings, replay.seen, replay.errors)
                    entry["errors"] = sum(len(found) for found in replay.errors.values())
                    if replay.errors:
                        print(f"{target}: errors {dict(replay.errors)}"[:2000], flush=True)
                    replay.errors = {}
                    rate, p50 = await replay.throughput(
                        arguments.clients, arguments.seconds, arguments.draw_seed
                    )
                    entry[
                        "requests_per_s_8_clients"
                        if arguments.clients == 8
                        else f"requests_per_s_{arguments.clients}_clients"
                    ] = round(rate, 1)
                    entry["p50_ms_under_throughput"] = round(p50, 2)
                    entry["load_after"] = load()
                    entry["errors_under_throughput"] = sum(map(len, replay.errors.values()))
                if straight:
                    hub_text = summary(timings, set(straight))
                    entry["direct_p50_ms"] = summary(straight)["p50_ms"]
                    entry["direct_p95_ms"] = summary(straight)["p95_ms"]
                    entry["hub_p50_ms_text_queries"] = hub_text["p50_ms"]
                    entry["hub_cost_ms"] = round(hub_text["p50_ms"] - entry["direct_p50_ms"], 2)
                    for key, values in straight.items():
                        entry["per_query"][key]["direct_p50_ms"] = round(percentile(values, 0.5), 2)
                print(
                    f"{target}: p50 {entry['p50_ms']} ms, p95 {entry['p95_ms']} ms over "
                    f"{entry['requests']} draws; {arguments.clients} clients "
                    f"{rate:,.0f}/s (load {load()})",
                    flush=True,
                )
    finally:
        if elastic is not None:
            if not arguments.keep_index:
                await elastic.drop()
            await elastic.close()
        await engine.dispose()
    return result


# The note ---------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:,.1f}"


def render(result: dict[str, Any], command: str) -> str:
    backends: dict[str, Any] = result["backends"]
    names = list(backends)
    lines = [
        f"# Search at {result['enterprises']:,} enterprises: latency through GraphQL, "
        f"reindex time ({result['date'][:10]})",
        "",
        f"Code: `{result['code']}`. Query set: `benchmarks/search_queries.json` "
        f"({result['queries']} queries); {result['draws']} random draws per backend after a "
        f"warm-up pass, one client; then {result['throughput_clients']} clients for "
        f"{result['throughput_seconds']:g} s.",
        "",
        "```sh",
        command,
        "```",
        "",
        "| | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]

    def row(label: str, key: str, format: Any = _ms) -> None:
        lines.append(
            f"| {label} | " + " | ".join(format(backends[name].get(key)) for name in names) + " |"
        )

    row("all queries, p50 ms", "p50_ms")
    row("all queries, p95 ms", "p95_ms")
    row("mean ms", "mean_ms")
    row("errors (of the one-client draws)", "errors", lambda v: "" if v is None else f"{v:,}")
    row(
        f"requests/s, {result['throughput_clients']} clients",
        "requests_per_s_8_clients"
        if result["throughput_clients"] == 8
        else f"requests_per_s_{result['throughput_clients']}_clients",
    )
    row("Elasticsearch directly, p50 ms (text queries)", "direct_p50_ms")
    row("hub p50 ms, the same text queries", "hub_p50_ms_text_queries")
    row("hub's own cost, ms (hub p50 - direct p50, one client, same draws)", "hub_cost_ms")
    row("hub's CPU per request, ms (one client, warm-up included)", "hub_cpu_ms_per_request")
    row("reindex, s", "reindex_s")
    row("reindex, documents/s", "reindex_documents_per_s", lambda v: "" if v is None else f"{v:,}")
    row("relay's work before the replay (tallies after a reindex), s", "relay_s")
    row("a loop of 5,000,000 additions in Python before the replay, ms", "python_loop_ms")
    row("load average before the replay", "load_before", lambda v: v or "")
    row("load average after it", "load_after", lambda v: v or "")
    lines += ["", "## Per query (ms)", ""]
    header = "| id | query | " + " | ".join(
        f"{name} total | {name} p50 | {name} p95" for name in names
    )
    if ELASTICSEARCH in backends:
        header += " | ES direct p50"
    lines.append(header + " |")
    lines.append(
        "|---|---|"
        + "---:|---:|---:|" * len(names)
        + ("---:|" if ELASTICSEARCH in backends else "")
    )
    first = backends[names[0]]["per_query"]
    for key, info in first.items():
        label = f"{info['field'].removeprefix('search')}: {info['query']}"
        if info["filter"]:
            label += " " + json.dumps(info["filter"], ensure_ascii=False).replace("|", "/")
        if info["facets"]:
            label += " +facets"
        cells = []
        for name in names:
            one = backends[name]["per_query"][key]
            if one["total"] is None:
                total = "error"
            else:
                total = f"{'' if one['total_exact'] else '>='}{one['total']:,}"
            if one["errors"]:
                total += f" ({one['errors']} errors)"
            cells += [total, _ms(one["p50_ms"]), _ms(one["p95_ms"])]
        if ELASTICSEARCH in backends:
            cells.append(_ms(backends[ELASTICSEARCH]["per_query"][key].get("direct_p50_ms")))
        lines.append(f"| {key} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def parser() -> argparse.ArgumentParser:
    made = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    made.add_argument("--database-url", required=True)
    made.add_argument("--search-url", help="Elasticsearch; without it only the embedded backend")
    made.add_argument("--enterprises", type=int, default=100_000, help="seed size of an empty DB")
    made.add_argument("--repeat", type=int, default=20, help="draws per query of the set")
    made.add_argument("--queries", type=Path, default=QUERIES)
    made.add_argument("--clients", type=int, default=8)
    made.add_argument("--seconds", type=float, default=20.0, help="of the throughput run")
    made.add_argument("--port", type=int, default=4271, help="of the first hub; the next one +1")
    made.add_argument("--draw-seed", type=int, default=15)
    made.add_argument(
        "--reindex",
        default=f"{EMBEDDED},{ELASTICSEARCH}",
        type=lambda value: {part for part in value.split(",") if part},
        help="backends to rebuild first (comma-separated; '' for none, e.g. to reuse "
        "--search-prefix)",
    )
    made.add_argument("--search-prefix", help="index prefix (default: a new one)")
    made.add_argument("--keep-index", action="store_true", help="do not drop the indices")
    made.add_argument("--output", type=Path, default=RESULTS, help="folder of the .md and .json")
    made.add_argument("--no-write", action="store_true", help="print, write no files")
    made.add_argument("--code", help="what the note says the code is (default: git's view)")
    return made


if __name__ == "__main__":
    options = parser().parse_args()
    found = asyncio.run(main(options))
    command = "python " + shlex.join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    note = render(found, command)
    print(note)
    if not options.no_write:
        stem = f"{found['date'][:10]}-search-{size_label(found['enterprises'])}"
        options.output.mkdir(parents=True, exist_ok=True)
        (options.output / f"{stem}.json").write_text(
            json.dumps(found, ensure_ascii=False, indent=2)
        )
        (options.output / f"{stem}.md").write_text(note)
        print(f"wrote {options.output / stem}.md and .json")

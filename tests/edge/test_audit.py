"""graphql-http's audit of the GraphQL over HTTP spec, against ``hub serve`` in production mode.

The audit (``tests/federation/audit.js``, graphql-http 1.23.1) runs against a real server
process on 127.0.0.1, for a partner and for the public. Every MUST, SHOULD and MAY passes: the
public's production schema refuses ``__schema`` but answers ``__type(name:)``, which the audit
asks with variables (``schema/production.py``).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.app import create_app
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.migrate import upgrade
from tests.federation.peers import (
    HERE,
    NODE_MODULES,
    free_ports,
    hub_command,
    node,
    peers,
    start,
    wait_until_ready,
)
from tests.fixtures.oauth import BASE_URL, access_token, oauth_client


@dataclass(frozen=True)
class Served:
    url: str
    partner_token: str


@pytest.fixture(scope="module")
async def database(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Path, str]]:
    """A SQLite file with a partner's OAuth client, and a token the hub issued it."""
    directory = tmp_path_factory.mktemp("audit")
    url = f"sqlite+aiosqlite:///{directory / 'hub.db'}"
    settings = Settings(database_url=url, signing_key_path=directory / "signing-key.pem")
    engine = create_engine(url)
    try:
        await upgrade(engine)
        maker = create_sessionmaker(engine)
        async with maker() as session:
            credentials = await oauth_client(session)
            await session.commit()
        app = create_app(settings, sessionmaker=maker)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as hub:
            token = await access_token(hub, credentials)
    finally:
        await engine.dispose()
    yield directory, token


@pytest.fixture(scope="module")
def served(database: tuple[Path, str]) -> Iterator[Served]:
    directory, token = database
    [port] = free_ports(1)
    env = {
        "HUB_ENV": "production",
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'hub.db'}",
        "HUB_SIGNING_KEY_PATH": str(directory / "signing-key.pem"),
    }
    with peers() as started:
        hub = start("hub", hub_command("serve", "--port", str(port)), directory, env)
        started.append(hub)
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(hub, f"{base}/healthz", deadline=time.monotonic() + 60)
        yield Served(f"{base}/graphql", token)


def audit(url: str, token: str | None = None) -> list[dict[str, Any]]:
    if not (NODE_MODULES / "graphql-http").is_dir():
        pytest.fail(
            "graphql-http is missing from tests/federation/node_modules: run `npm ci` there",
            pytrace=False,
        )
    done = subprocess.run(
        [node(), str(HERE / "audit.js"), url, *([token] if token else [])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)
    assert len(results) == 61  # graphql-http 1.23.1's server audits, all of them run
    return results


def failed(results: list[dict[str, Any]], *levels: str) -> dict[str, str]:
    return {
        result["id"]: result["name"]
        for result in results
        if result["status"] != "ok" and result["name"].startswith(levels)
    }


def test_every_must_and_should_passes_for_a_partner(served: Served) -> None:
    results = audit(served.url, served.partner_token)
    assert failed(results, "MUST", "SHOULD") == {}
    assert failed(results, "MAY") == {}


def test_every_must_and_should_passes_for_the_public(served: Served) -> None:
    results = audit(served.url)
    assert failed(results, "MUST", "SHOULD") == {}
    assert failed(results, "MAY") == {}

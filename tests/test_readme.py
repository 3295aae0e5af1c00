"""The README's example queries, run against the demo data they promise to find something in.

On both dialects, over HTTP, for the public and for a partner with a bearer token. On
PostgreSQL and on SQLite alike, every example that does not read the suppressed statistics
must be answered on the compiled path (``X-Hub-Plan: compiled``; a search by its backend, then
one statement), as the README promises, and the same as the resolvers answer it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hub.app import create_app
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.demo.seed import seed
from hub.migrate import upgrade
from search.indexer import reindex
from search.outbox import EMBEDDED
from tests.fixtures.databases import empty_database
from tests.fixtures.oauth import BASE_URL, access_token, oauth_client

README = Path(__file__).resolve().parents[1] / "README.md"


def _examples() -> list[str]:
    """Each top-level `{ ... }` document of the README's first graphql block."""
    block = re.search(r"```graphql\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert block is not None
    documents, depth, current = [], 0, ""
    for line in block.group(1).splitlines():
        if not current and not line.startswith("{"):
            continue
        current += line + "\n"
        depth += line.count("{") - line.count("}")
        if depth == 0:
            documents.append(current)
            current = ""
    return documents


EXAMPLES = _examples()

RESOLVER_ONLY = ("complaintStatistics", "statistics")
"""The roots the README says have no SQL form: the statistics whose small cells
``hub.kit.suppression`` withholds."""


@dataclass
class Demo:
    hub: httpx.AsyncClient
    resolvers: httpx.AsyncClient
    dialect: str
    partner: str


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Demo]:
    folder = tmp_path_factory.mktemp("readme")
    async with empty_database(request.param, folder) as url:
        engine = create_engine(url)
        try:
            await upgrade(engine)
            await seed(engine, enterprises=2000, as_of=date.today())
            maker = create_sessionmaker(engine)
            await reindex(maker, EMBEDDED)
            async with maker() as session:
                credentials = await oauth_client(session, name="Ministry of Commerce")
                await session.commit()
            settings = Settings(signing_key_path=folder / "key.pem")
            apps = [
                create_app(settings, sessionmaker=maker),
                create_app(
                    settings.model_copy(update={"compile_queries": False}), sessionmaker=maker
                ),
            ]
            async with (
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=apps[0]), base_url=BASE_URL
                ) as hub,
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=apps[1]), base_url=BASE_URL
                ) as resolvers,
            ):
                partner = await access_token(hub, credentials)
                yield Demo(hub, resolvers, request.param, partner)
        finally:
            await engine.dispose()


def test_the_readme_has_its_examples() -> None:
    assert len(EXAMPLES) == 14


def _sizes(data: Any) -> list[int]:
    """The lengths of every list in an answer: an example must find something."""
    if isinstance(data, dict):
        return [n for value in data.values() for n in _sizes(value)]
    if isinstance(data, list):
        return [len(data), *(n for item in data for n in _sizes(item))]
    return []


@pytest.mark.parametrize("caller", ["public", "partner"])
@pytest.mark.parametrize("document", EXAMPLES, ids=[f"example-{i}" for i in range(len(EXAMPLES))])
async def test_example_answers_with_data(demo: Demo, document: str, caller: str) -> None:
    headers = {"authorization": f"Bearer {demo.partner}"} if caller == "partner" else {}
    response = await demo.hub.post("/graphql", json={"query": document}, headers=headers)
    assert response.status_code == 200
    answer = response.json()
    assert "errors" not in answer, answer
    (root,) = answer["data"].values()
    assert root is not None, document
    if isinstance(root, dict) and any(k in root for k in ("nodes", "edges")):
        assert _sizes(root)[0] > 0, (document, root)
    if isinstance(root, list):
        assert root, document
    # the plan the README promises, and the same answer as the resolvers give
    (name,) = answer["data"]
    compiled = name not in RESOLVER_ONLY  # on SQLite as on PostgreSQL
    assert response.headers["x-hub-plan"] == ("compiled" if compiled else "resolvers")
    resolved = await demo.resolvers.post("/graphql", json={"query": document}, headers=headers)
    assert resolved.headers["x-hub-plan"] == "resolvers"
    assert resolved.json() == answer
    if name.startswith("search"):  # the same bytes, scores and highlights included
        assert resolved.content == response.content

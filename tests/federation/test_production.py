"""A subgraph in production mode is as closed as the hub, and still tells a router its SDL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.app import create_app
from hub.auth.principal import Tier
from hub.config import Settings
from hub.db import HubSession
from schema.federation import Subgraph
from schema.federation.schema import build_subgraph

PRODUCTION = Settings(env="production")


@pytest.fixture
async def clients(
    sessionmaker: async_sessionmaker[HubSession],
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """The credit subgraph and the whole hub, both in production mode."""
    apps = [
        create_app(PRODUCTION, sessionmaker=sessionmaker, subgraph="credit"),
        create_app(PRODUCTION, sessionmaker=sessionmaker),
    ]
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[0]), base_url="http://t") as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[1]), base_url="http://t") as b,
    ):
        yield a, b


@pytest.mark.parametrize(
    "query",
    [
        "{ __schema { types { name } } }",
        "{ __schema { queryType { name } } }",
        '{ enterprize(uscc: "91110000600037341L") { name } }',  # no "Did you mean"
        '{ enterprise(uscc: "91110000600037341L") { nmae } }',
    ],
)
async def test_refused_as_the_hub_refuses(
    query: str, clients: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    subgraph, hub = [
        (await client.post("/graphql", json={"query": query})).json() for client in clients
    ]
    assert subgraph["data"] is None
    assert "Did you mean" not in str(subgraph)
    assert subgraph == hub


async def test_the_sdl_is_served_to_routers(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    subgraph, _ = clients
    response = await subgraph.post("/graphql", json={"query": "{ _service { sdl } }"})
    assert response.status_code == 200
    sdl = response.json()["data"]["_service"]["sdl"]
    assert sdl == build_subgraph(Subgraph.CREDIT, Tier.PUBLIC).as_str()

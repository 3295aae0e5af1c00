"""Clients of one subgraph app, inside the test's transaction like conftest's ``client``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.app import create_app
from hub.config import Settings
from hub.db import HubSession

SubgraphClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def subgraph_client(sessionmaker: async_sessionmaker[HubSession], tmp_path: Path) -> SubgraphClient:
    """``async with subgraph_client("licensing") as client``: httpx against that subgraph;
    ``compiled=False`` leaves every document to the resolvers (``HUB_COMPILE_QUERIES``)."""

    @asynccontextmanager
    async def open_client(name: str, *, compiled: bool = True) -> AsyncIterator[httpx.AsyncClient]:
        settings = Settings(signing_key_path=tmp_path / "key.pem", compile_queries=compiled)
        app = create_app(settings, sessionmaker=sessionmaker, subgraph=name)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            yield client

    return open_client

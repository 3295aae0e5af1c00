"""The hub over https (OAuth2 insists on it), and bearer tokens of each tier it issues."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.applications import Starlette

from hub.app import create_app
from hub.config import Settings
from hub.db import HubSession
from tests.fixtures.limits import endpoint_of, random_address
from tests.fixtures.oauth import BASE_URL, access_token, oauth_client

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(signing_key_path=tmp_path / "signing-key.pem")


Hub = Callable[[Settings], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def make_hub(sessionmaker: async_sessionmaker[HubSession]) -> Hub:
    """A client of a new app with ``settings``, its sessions in the test's transaction.

    The app's lifespan does not run (its background tasks would share the test's connection);
    what it would close, the rate limiter and the search client, is closed here instead.
    """

    @asynccontextmanager
    async def make(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings, sessionmaker=sessionmaker)
        transport = httpx.ASGITransport(app=app, client=(random_address(), 50000))
        try:
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
                yield client
        finally:
            await endpoint_of(app).guard.limiter.aclose()
            await app.state.search.close()

    return make


@pytest.fixture
async def hub(settings: Settings, make_hub: Hub) -> AsyncIterator[httpx.AsyncClient]:
    async with make_hub(settings) as client:
        yield client


def app_of(client: httpx.AsyncClient) -> Starlette:
    app: Any = client._transport.app  # type: ignore[attr-defined]
    assert isinstance(app, Starlette)
    return app


async def token_of(hub: httpx.AsyncClient, session: HubSession, tier: str) -> str:
    credentials = await oauth_client(session, tier=tier, scopes=("credit:read",), name=tier)
    await session.commit()
    return await access_token(hub, credentials)


async def scrape(hub: httpx.AsyncClient, token: str) -> Samples:
    """/metrics as an internal caller sees it: every sample by name and labels."""
    response = await hub.get("/metrics", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 for a labelled child that was never touched."""
    return samples.get((name, frozenset(labels.items())), 0.0)

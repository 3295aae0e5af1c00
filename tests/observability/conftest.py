"""The hub over https (OAuth2 insists on it), and bearer tokens of each tier it issues."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.applications import Starlette

from hub.config import Settings
from hub.db import HubSession
from tests.fixtures.hubs import hub_over_http
from tests.fixtures.limits import random_address
from tests.fixtures.oauth import access_token, oauth_client

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

    def make(settings: Settings) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return hub_over_http(settings, sessionmaker, client=(random_address(), 50000))

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

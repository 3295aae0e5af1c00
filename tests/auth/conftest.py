"""The hub with a signing key of the test's own, reached over https as OAuth2 requires."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.app import create_app
from hub.auth.keys import SigningKey, load_or_create
from hub.config import Settings
from hub.db import HubSession
from tests.fixtures.oauth import BASE_URL, Credentials, oauth_client


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(signing_key_path=tmp_path / "keys" / "signing-key.pem")


@pytest.fixture
def signing_key(settings: Settings) -> SigningKey:
    """The key the hub signs with: made here, read by the app from the same file."""
    return load_or_create(settings.signing_key_path)


@pytest.fixture
async def hub(
    settings: Settings, sessionmaker: async_sessionmaker[HubSession]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, sessionmaker=sessionmaker)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL
    ) as client:
        yield client


@pytest.fixture
async def partner(session: HubSession) -> Credentials:
    """A partner client holding credit:read and licences:read."""
    return await oauth_client(session, scopes=("credit:read", "licences:read"))

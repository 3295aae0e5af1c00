"""Asking the app over HTTP, as a client does, which names a search finds."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.config import Settings
from hub.db import HubSession
from search.elastic import ElasticBackend

SEARCH = """
query($q: String!) { searchEnterprises(query: $q, first: 5) { nodes { uscc name } } }
"""


async def found(
    sessionmaker: async_sessionmaker[HubSession], elastic: ElasticBackend | None, text: str
) -> tuple[str, list[str]]:
    """(backend that answered, names found) for a search over HTTP, as a client sends it."""
    from hub.app import create_app

    settings = Settings(
        search_url=elastic.url if elastic else None,
        search_index_prefix=elastic.prefix if elastic else "hub",
    )
    app = create_app(settings, sessionmaker=sessionmaker)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            body = {"query": SEARCH, "variables": {"q": text}}
            response = await client.post("/graphql", json=body)
    finally:
        await app.state.search.close()
    assert response.status_code == 200, response.text
    answer = response.json()
    assert "errors" not in answer, answer
    names = [node["name"] for node in answer["data"]["searchEnterprises"]["nodes"]]
    return answer["extensions"]["search"]["backend"], names

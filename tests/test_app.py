"""The HTTP surface besides GraphQL: health, readiness, GraphiQL."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.app import create_app
from hub.config import Settings
from hub.db import HubSession, create_engine, create_sessionmaker


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_with_a_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert (response.status_code, response.json()) == (
        200,
        {"status": "ok", "database": "reachable", "search": {"backend": "embedded"}},
    )


async def test_readyz_without_a_database() -> None:
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    maker: async_sessionmaker[HubSession] = create_sessionmaker(engine)
    app = create_app(Settings(), sessionmaker=maker)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
    ) as client:
        response = await client.get("/readyz")
    await engine.dispose()
    assert (response.status_code, response.json()) == (
        503,
        {"status": "unavailable", "database": "unreachable"},
    )


async def test_graphiql_in_development(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_an_unexpected_failure_at_the_edge_is_answered_in_json(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given: reading the request fails the way a bug would
    async def broken(*_: object) -> object:
        raise RuntimeError("a bug, with details nobody outside may see")

    monkeypatch.setattr("schema.http.read_request", broken)

    # when
    response = await client.post("/graphql", json={"query": "{ __typename }"})

    # then: JSON with a code, not Starlette's plain-text page; the log has the rest
    assert (response.status_code, response.headers["content-type"]) == (500, "application/json")
    assert response.json() == {
        "errors": [
            {
                "message": "Internal error. It has been logged; please try again later.",
                "extensions": {"code": "INTERNAL"},
            }
        ]
    }
    assert "a bug, with details nobody outside may see" in caplog.text


async def test_queries_over_get(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ enterprises { totalCount } }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"enterprises": {"totalCount": 0}}}


async def test_a_token_that_proves_nothing_is_refused_with_401(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "{ enterprises { totalCount } }"},
        headers={"authorization": "Bearer not-a-token"},
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert "data" not in response.json()


async def test_credentials_that_cannot_be_checked_get_503(tmp_path: Path) -> None:
    # given a hub whose database does not answer
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    app = create_app(
        Settings(signing_key_path=tmp_path / "key.pem"), sessionmaker=create_sessionmaker(engine)
    )
    token = _well_formed_token(tmp_path / "key.pem")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
    ) as client:
        # when
        response = await client.post(
            "/graphql",
            json={"query": "{ enterprises { totalCount } }"},
            headers={"authorization": f"Bearer {token}"},
        )
    await engine.dispose()
    # then
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["errors"][0]["extensions"] == {"code": "UNAVAILABLE"}


def _well_formed_token(key_path: Path) -> str:
    """A token signed by the hub's own key, so that only the database check can fail."""
    from hub.auth.keys import load_or_create
    from tests.fixtures.oauth import hub_claims, sign

    key = load_or_create(key_path)
    return sign(key.private, hub_claims(Settings(signing_key_path=key_path), "partner-1"))

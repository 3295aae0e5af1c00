"""POST /oauth/revoke (RFC 7009): a revoked token is refused from then on, until it expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from joserfc import jwt
from sqlalchemy import select

from hub.auth.keys import SigningKey
from hub.auth.models import RevokedToken
from hub.auth.repository import ClientRepository
from hub.auth.tokens import LEEWAY_SECONDS
from hub.db import HubSession
from tests.fixtures.oauth import Credentials, access_token, graphql, oauth_client


async def revoke(hub: httpx.AsyncClient, credentials: Credentials, token: str) -> httpx.Response:
    return await hub.post("/oauth/revoke", data={"token": token}, auth=credentials.basic)


async def test_a_revoked_token_is_refused_from_then_on(
    hub: httpx.AsyncClient, partner: Credentials, session: HubSession, signing_key: SigningKey
) -> None:
    # given
    token = await access_token(hub, partner)
    other = await access_token(hub, partner)
    assert (await graphql(hub, token)).status_code == 200

    # when
    response = await revoke(hub, partner, token)

    # then
    assert (response.status_code, response.json()) == (200, {})
    refused = await graphql(hub, token)
    assert refused.status_code == 401
    assert refused.json() == {
        "errors": [{"message": "token revoked", "extensions": {"code": "UNAUTHENTICATED"}}]
    }
    assert (await graphql(hub, other)).status_code == 200
    claims = jwt.decode(token, signing_key.public_key_set()).claims
    stored = [
        (row.jti, row.client_id, row.expires_at)
        for row in (await session.scalars(select(RevokedToken))).all()
    ]
    assert stored == [
        (claims["jti"], partner.client_id, datetime.fromtimestamp(claims["exp"], UTC))
    ]


async def test_revoking_twice_is_harmless(hub: httpx.AsyncClient, partner: Credentials) -> None:
    token = await access_token(hub, partner)
    first = await revoke(hub, partner, token)
    second = await revoke(hub, partner, token)
    assert [first.status_code, second.status_code] == [200, 200]


async def test_an_unknown_token_is_answered_like_a_revoked_one(
    hub: httpx.AsyncClient, partner: Credentials, session: HubSession
) -> None:
    response = await revoke(hub, partner, "not-a-token")
    assert (response.status_code, response.json()) == (200, {})
    assert (await session.scalars(select(RevokedToken))).all() == []


async def test_a_client_cannot_revoke_another_clients_token(
    hub: httpx.AsyncClient, partner: Credentials, session: HubSession
) -> None:
    other = await oauth_client(session, name="Ministry of Finance", scopes=("credit:read",))
    token = await access_token(hub, other)

    response = await revoke(hub, partner, token)

    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")
    assert (await graphql(hub, token)).status_code == 200


async def test_revocation_needs_client_authentication(
    hub: httpx.AsyncClient, partner: Credentials
) -> None:
    token = await access_token(hub, partner)
    response = await hub.post("/oauth/revoke", data={"token": token})
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")
    assert (await graphql(hub, token)).status_code == 200


async def test_revocations_of_expired_tokens_are_purged(
    partner: Credentials, session: HubSession
) -> None:
    # given: one revocation that outlived its token and the leeway, one whose token is still
    # accepted within the leeway, one still protecting a live token
    now = datetime.now(UTC)
    clients = ClientRepository(session)
    past_leeway = now - timedelta(seconds=LEEWAY_SECONDS + 1)
    await clients.revoke_token("expired", partner.client_id, past_leeway, now)
    in_leeway = now - timedelta(seconds=LEEWAY_SECONDS - 1)
    await clients.revoke_token("in-leeway", partner.client_id, in_leeway, now)
    await clients.revoke_token("live", partner.client_id, now + timedelta(minutes=5), now)

    # when: the next revocation
    await clients.revoke_token("next", partner.client_id, now + timedelta(minutes=5), now)

    # then
    kept = await session.scalars(select(RevokedToken.jti).order_by(RevokedToken.jti))
    assert kept.all() == ["in-leeway", "live", "next"]

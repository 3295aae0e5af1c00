"""POST /oauth/introspect (RFC 7662): active exactly when /graphql would accept the token."""

from __future__ import annotations

import time

import httpx
import pytest
from joserfc.jwk import ECKey

from hub.auth.clients import ClientService
from hub.auth.keys import SigningKey
from hub.config import Settings
from hub.db import HubSession
from tests.fixtures.oauth import (
    Credentials,
    access_token,
    graphql,
    hub_claims,
    oauth_client,
    sign,
)

INACTIVE = {"active": False}


async def introspect(
    hub: httpx.AsyncClient, credentials: Credentials, token: str, **extra: str
) -> httpx.Response:
    return await hub.post(
        "/oauth/introspect", data={"token": token, **extra}, auth=credentials.basic
    )


async def test_an_active_token_is_described(
    hub: httpx.AsyncClient, partner: Credentials, settings: Settings
) -> None:
    token = await access_token(hub, partner, scope="credit:read")

    response = await introspect(hub, partner, token, token_type_hint="access_token")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    issued_at, expires_at, jti = body.pop("iat"), body.pop("exp"), body.pop("jti")
    assert expires_at - issued_at == 300
    assert abs(issued_at - time.time()) < 5
    assert isinstance(jti, str)
    assert body == {
        "active": True,
        "token_type": "Bearer",
        "client_id": partner.client_id,
        "scope": "credit:read",
        "sub": partner.client_id,
        "aud": "quality-credit-hub",
        "iss": settings.issuer,
        "hub_tier": "partner",
    }


async def test_the_same_token_passes_on_graphql(
    hub: httpx.AsyncClient, partner: Credentials
) -> None:
    token = await access_token(hub, partner)
    response = await graphql(hub, token)
    assert response.status_code == 200
    assert response.json() == {"data": {"enterprises": {"totalCount": 0}}}


async def test_a_revoked_token_is_inactive(hub: httpx.AsyncClient, partner: Credentials) -> None:
    token = await access_token(hub, partner)
    revoked = await hub.post("/oauth/revoke", data={"token": token}, auth=partner.basic)
    assert revoked.status_code == 200

    response = await introspect(hub, partner, token)

    assert (response.status_code, response.json()) == (200, INACTIVE)


async def test_a_token_of_a_revoked_client_is_inactive(
    hub: httpx.AsyncClient, partner: Credentials, session: HubSession
) -> None:
    # given: an internal agency introspects, since the revoked client cannot authenticate
    agency = await oauth_client(session, tier="internal", scopes=(), name="SAMR")
    token = await access_token(hub, partner)
    await ClientService(session).revoke(partner.client_id)

    response = await introspect(hub, agency, token)

    assert (response.status_code, response.json()) == (200, INACTIVE)


async def test_an_expired_token_is_inactive(
    hub: httpx.AsyncClient, partner: Credentials, signing_key: SigningKey, settings: Settings
) -> None:
    past = int(time.time()) - 3600
    token = sign(signing_key.private, hub_claims(settings, partner.client_id, now=past))
    response = await introspect(hub, partner, token)
    assert (response.status_code, response.json()) == (200, INACTIVE)


@pytest.mark.parametrize("token", ["", "not-a-token", "a.b.c"])
async def test_garbage_is_inactive(
    hub: httpx.AsyncClient, partner: Credentials, token: str
) -> None:
    response = await introspect(hub, partner, token)
    assert (response.status_code, response.json()) == (200, INACTIVE)


async def test_a_token_signed_by_another_key_is_inactive(
    hub: httpx.AsyncClient, partner: Credentials, settings: Settings
) -> None:
    foreign = ECKey.generate_key("P-256", parameters={"kid": "foreign"})
    token = sign(foreign, hub_claims(settings, partner.client_id))
    response = await introspect(hub, partner, token)
    assert (response.status_code, response.json()) == (200, INACTIVE)


async def test_a_partner_cannot_introspect_another_clients_token(
    hub: httpx.AsyncClient, partner: Credentials, session: HubSession
) -> None:
    other = await oauth_client(session, name="Ministry of Finance", scopes=("credit:read",))
    token = await access_token(hub, other)

    response = await introspect(hub, partner, token)

    assert (response.status_code, response.json()) == (200, INACTIVE)


async def test_an_internal_client_can_introspect_any_token(
    hub: httpx.AsyncClient, partner: Credentials, session: HubSession
) -> None:
    agency = await oauth_client(session, tier="internal", scopes=(), name="SAMR")
    token = await access_token(hub, partner)

    response = await introspect(hub, agency, token)

    assert response.status_code == 200
    assert (response.json()["active"], response.json()["client_id"]) == (True, partner.client_id)


async def test_introspection_needs_client_authentication(
    hub: httpx.AsyncClient, partner: Credentials
) -> None:
    token = await access_token(hub, partner)

    anonymous = await hub.post("/oauth/introspect", data={"token": token})
    wrong = await introspect(hub, Credentials(partner.client_id, "qchs_wrong"), token)

    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "invalid_client")
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    assert "active" not in wrong.json()


async def test_introspection_needs_a_token_parameter(
    hub: httpx.AsyncClient, partner: Credentials
) -> None:
    response = await hub.post("/oauth/introspect", data={}, auth=partner.basic)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")

"""POST /oauth/token: the client credentials grant, answered with RFC 9068 JWT access tokens."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.app import create_app
from hub.auth.clients import ClientService
from hub.auth.keys import SigningKey, load_or_create
from hub.config import Settings
from hub.db import HubSession
from tests.fixtures.oauth import BASE_URL, Credentials, oauth_client, request_token

NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_a_client_gets_a_jwt_access_token(
    hub: httpx.AsyncClient,
    partner: Credentials,
    signing_key: SigningKey,
    settings: Settings,
    method: str,
) -> None:
    # when
    before = int(time.time())
    response = await request_token(hub, partner, method=method)
    after = int(time.time())

    # then
    assert response.status_code == 200, response.text
    assert {name: response.headers[name] for name in NO_STORE} == NO_STORE
    body = response.json()
    assert sorted(body) == ["access_token", "expires_in", "scope", "token_type"]
    assert (body["token_type"], body["expires_in"], body["scope"]) == (
        "Bearer",
        300,
        "credit:read licences:read",
    )
    token = jwt.decode(body["access_token"], signing_key.public_key_set(), algorithms=["ES256"])
    assert token.header == {"typ": "at+jwt", "alg": "ES256", "kid": signing_key.kid}
    claims = dict(token.claims)
    assert before <= claims.pop("iat") <= after
    assert claims.pop("exp") - before in range(300, 300 + after - before + 1)
    jti = claims.pop("jti")
    assert isinstance(jti, str) and len(jti) >= 22
    assert claims == {
        "iss": settings.issuer,
        "aud": "quality-credit-hub",
        "sub": partner.client_id,
        "client_id": partner.client_id,
        "scope": "credit:read licences:read",
        "hub_tier": "partner",
    }


async def test_every_token_has_its_own_jti(
    hub: httpx.AsyncClient, partner: Credentials, signing_key: SigningKey
) -> None:
    jtis = set()
    for _ in range(3):
        response = await request_token(hub, partner)
        token = jwt.decode(response.json()["access_token"], signing_key.public_key_set())
        jtis.add(token.claims["jti"])
    assert len(jtis) == 3


async def test_an_internal_client_gets_the_internal_tier(
    hub: httpx.AsyncClient, session: HubSession, signing_key: SigningKey
) -> None:
    agency = await oauth_client(session, tier="internal", scopes=(), name="SAMR analytics")
    response = await request_token(hub, agency)
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["access_token"], signing_key.public_key_set()).claims
    assert (claims["hub_tier"], claims["scope"]) == ("internal", "")


async def test_the_lifetime_follows_the_settings(
    sessionmaker: async_sessionmaker[HubSession], session: HubSession, tmp_path: Path
) -> None:
    settings = Settings(signing_key_path=tmp_path / "key.pem", token_lifetime_seconds=60)
    credentials = await oauth_client(session)
    app = create_app(settings, sessionmaker=sessionmaker)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as hub:
        response = await request_token(hub, credentials)
    assert response.json()["expires_in"] == 60
    keys = load_or_create(settings.signing_key_path).public_key_set()
    claims = jwt.decode(response.json()["access_token"], keys).claims
    assert claims["exp"] - claims["iat"] == 60


@pytest.mark.parametrize(
    ("requested", "granted"),
    [
        ("credit:read", "credit:read"),
        ("licences:read credit:read", "credit:read licences:read"),
        ("  licences:read  ", "licences:read"),
    ],
)
async def test_a_client_can_narrow_its_scopes(
    hub: httpx.AsyncClient,
    partner: Credentials,
    signing_key: SigningKey,
    requested: str,
    granted: str,
) -> None:
    response = await request_token(hub, partner, scope=requested)
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == granted
    claims = jwt.decode(response.json()["access_token"], signing_key.public_key_set()).claims
    assert claims["scope"] == granted


@pytest.mark.parametrize(
    "requested",
    [
        "recalls:read",  # known, never granted to this client
        "credit:read recalls:read",  # one of them never granted
        "credit:write",  # no such scope at all
    ],
)
async def test_a_scope_never_granted_is_an_invalid_scope(
    hub: httpx.AsyncClient, partner: Credentials, requested: str
) -> None:
    response = await request_token(hub, partner, scope=requested)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_scope",
        "error_description": "The requested scope is invalid, unknown, or malformed.",
    }


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_a_wrong_secret_is_an_invalid_client(
    hub: httpx.AsyncClient, partner: Credentials, method: str
) -> None:
    wrong = Credentials(partner.client_id, partner.client_secret[:-2] + "xx")
    response = await request_token(hub, wrong, method=method)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "access_token" not in response.json()
    if method == "client_secret_basic":
        assert response.headers["www-authenticate"].startswith('Basic error="invalid_client"')


async def test_an_unknown_client_is_an_invalid_client(hub: httpx.AsyncClient) -> None:
    response = await request_token(hub, Credentials("qch_000000000000000000000000", "qchs_x"))
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


async def test_a_revoked_client_gets_no_token(
    hub: httpx.AsyncClient, partner: Credentials, session: HubSession
) -> None:
    await ClientService(session).revoke(partner.client_id)
    response = await request_token(hub, partner)
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


async def test_a_rotated_secret_replaces_the_old_one(
    hub: httpx.AsyncClient, partner: Credentials, session: HubSession
) -> None:
    issued = await ClientService(session).rotate_secret(partner.client_id)
    old = await request_token(hub, partner)
    new = await request_token(hub, Credentials(partner.client_id, issued.client_secret))
    assert (old.status_code, old.json()["error"]) == (401, "invalid_client")
    assert new.status_code == 200, new.text


async def test_no_credentials_is_an_invalid_client(hub: httpx.AsyncClient) -> None:
    response = await hub.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


async def test_other_grant_types_are_unsupported(
    hub: httpx.AsyncClient, partner: Credentials
) -> None:
    response = await hub.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "u", "password": "p"},
        auth=partner.basic,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize(
    ("content", "headers", "description"),
    [
        (
            b'{"grant_type": "client_credentials"}',
            {"content-type": "application/json"},
            "Send the parameters as application/x-www-form-urlencoded.",
        ),
        (
            b"grant_type=client_credentials&scope=credit:read&scope=licences:read",
            {"content-type": "application/x-www-form-urlencoded"},
            "Repeated parameter 'scope'.",
        ),
        (
            b"grant_type=client_credentials&\xff",
            {"content-type": "application/x-www-form-urlencoded"},
            "The request body is not a valid form.",
        ),
        (
            b"scope=" + b"x" * 20_000,
            {"content-type": "application/x-www-form-urlencoded"},
            "The request body is too large.",
        ),
    ],
)
async def test_malformed_requests_are_invalid_requests(
    hub: httpx.AsyncClient,
    partner: Credentials,
    content: bytes,
    headers: dict[str, str],
    description: str,
) -> None:
    response = await hub.post("/oauth/token", content=content, headers=headers, auth=partner.basic)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": description}


async def test_basic_credentials_that_are_not_utf8_are_an_invalid_client(
    hub: httpx.AsyncClient,
) -> None:
    credentials = base64.b64encode(b"\xff\xfe:secret").decode()
    response = await hub.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"authorization": f"Basic {credentials}"},
    )
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


async def test_the_token_endpoint_requires_https(
    hub: httpx.AsyncClient, partner: Credentials
) -> None:
    response = await hub.post(
        "http://hub.test/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=partner.basic,
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "insecure_transport",
        "error_description": "OAuth 2 MUST utilize https.",
    }


async def test_plain_http_on_loopback_is_allowed_for_development(
    hub: httpx.AsyncClient, partner: Credentials
) -> None:
    response = await hub.post(
        "http://127.0.0.1:8000/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=partner.basic,
    )
    assert response.status_code == 200, response.text


async def test_the_token_endpoint_takes_post_only(hub: httpx.AsyncClient) -> None:
    response = await hub.get("/oauth/token", params={"grant_type": "client_credentials"})
    assert response.status_code == 405

"""The public documents of the authorization server: its JWKS and its RFC 8414 metadata."""

from __future__ import annotations

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from hub.auth.keys import SigningKey
from tests.fixtures.oauth import Credentials, access_token


async def test_the_jwks_holds_the_public_signing_key(
    hub: httpx.AsyncClient, signing_key: SigningKey
) -> None:
    response = await hub.get("/.well-known/jwks.json")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    public = signing_key.private.as_dict(private=False)
    assert response.json() == {
        "keys": [
            {
                "kty": "EC",
                "crv": "P-256",
                "x": public["x"],
                "y": public["y"],
                "kid": signing_key.kid,
                "alg": "ES256",
                "use": "sig",
            }
        ]
    }
    assert "d" not in response.json()["keys"][0]


async def test_the_jwks_verifies_the_tokens_the_hub_issues(
    hub: httpx.AsyncClient, partner: Credentials
) -> None:
    # given: a verifier that knows nothing but the published JWKS
    keys = KeySet.import_key_set((await hub.get("/.well-known/jwks.json")).json())

    # when
    token = jwt.decode(await access_token(hub, partner), keys, algorithms=["ES256"])

    # then
    assert token.claims["client_id"] == partner.client_id


async def test_the_kid_is_the_rfc7638_thumbprint(signing_key: SigningKey) -> None:
    assert signing_key.kid == signing_key.private.thumbprint()
    assert len(signing_key.kid) == 43


async def test_the_authorization_server_metadata(hub: httpx.AsyncClient) -> None:
    response = await hub.get("/.well-known/oauth-authorization-server")

    assert response.status_code == 200
    issuer = "http://127.0.0.1:8000"
    methods = ["client_secret_basic", "client_secret_post"]
    assert response.json() == {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth/token",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "scopes_supported": [
            "complaints:read",
            "credit:read",
            "licences:read",
            "personal:read",
            "quality:read",
            "recalls:read",
        ],
        "response_types_supported": [],
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": methods,
        "introspection_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_methods_supported": methods,
    }
